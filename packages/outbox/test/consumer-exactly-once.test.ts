import { type ConsumerEvents, createConsumer } from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { completedCount, eventStates } from "./support/completion.js";
import {
  connectionsOf,
  countWhere,
  createEffects,
  events,
  newGeneration,
  publisherFor,
  publishMany,
  recorder,
  useConsumers,
  waitFor,
  waitForCount,
} from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

describe("consumer: claim, handle, complete", () => {
  it("handles a published event once, in its transaction, and completes it (deletes its row)", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool);
    const pub = await publisherFor(pool, gen);
    const c = consumers.create({ generation: gen, handlers: [recorder("shop.first")] });
    const handled: Array<ConsumerEvents["handled"]> = [];
    c.on("handled", (e) => handled.push(e));
    await c.start();
    expect(c.health().state).toBe("running");
    await publishMany(pool, pub, 3, { prefix: "first" });
    await waitFor(() => handled.length === 3);
    // Completed: each row deleted, with the event_handled row that records it.
    expect(await countWhere(pool, "SELECT * FROM cutover.outbox WHERE generation = $1", [gen])).toBe(0);
    expect((await eventStates(pool, gen)).map((e) => e.status)).toEqual(Array(3).fill("completed"));
    expect(handled.map((h) => h.id).sort()).toEqual((await eventStates(pool, gen)).map((e) => e.id).sort());
    expect(await countWhere(pool, "SELECT * FROM public.effects WHERE handler = 'shop.first'")).toBe(3);
    expect(
      await countWhere(
        pool,
        "SELECT * FROM cutover.event_handled WHERE handler_name = 'shop.first' AND generation = $1",
        [gen],
      ),
    ).toBe(3);
    expect(handled.map((h) => h.handlers)).toEqual([["shop.first"], ["shop.first"], ["shop.first"]]);
    const m = c.metrics();
    expect(m.handled.total).toBe(3);
    expect(m.handled.byTopic["order.placed"]).toBe(3);
    expect(m.handled.byHandler["shop.first"]).toBe(3);
    expect(m.inFlight).toBe(0);
    expect(m.lastClaimLagMs).not.toBeNull();
  });

  it("8 consumers over two generations handle 10,000 events exactly once, each only by its own generation", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    // Completion deletes the rows: keep what each deleted row said (its
    // generation, its owner at the delete) to check against the effects.
    await pool.query(`
      CREATE TABLE public.completed (id bigint PRIMARY KEY, generation int NOT NULL, claimed_by text);
      CREATE FUNCTION public.keep_completed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO public.completed VALUES (OLD.id, OLD.generation, OLD.claimed_by);
        RETURN NULL;
      END $$;
      CREATE TRIGGER keep_completed AFTER DELETE ON cutover.outbox FOR EACH ROW EXECUTE FUNCTION public.keep_completed();`);
    const gen1 = await newGeneration(pool, "one");
    const gen2 = await newGeneration(pool, "two");
    const genOf = new Map<string, number>();
    for (const gen of [gen1, gen2]) {
      for (let i = 0; i < 4; i++) {
        const c = consumers.create({
          generation: gen,
          handlers: [recorder("shop.record")],
          concurrency: 2,
          batchSize: 25,
          pollIntervalMs: 200,
          workerId: `eo-${gen}-${i}`,
        });
        genOf.set(c.workerId, gen);
      }
    }
    await Promise.all(consumers.all.map((c) => c.start()));
    // Publish while the consumers run, both generations at once.
    await Promise.all([
      publishMany(pool, await publisherFor(pool, gen1), 5000, { prefix: "g1", batch: 250 }),
      publishMany(pool, await publisherFor(pool, gen2), 5000, { prefix: "g2", batch: 250 }),
    ]);
    const gens = [gen1, gen2];
    await waitForCount(
      pool,
      0,
      "SELECT * FROM cutover.outbox WHERE status <> 'done' AND generation = ANY($1)",
      [gens],
      100,
    );

    expect((await completedCount(pool, gen1)) + (await completedCount(pool, gen2))).toBe(10_000);
    expect(await countWhere(pool, "SELECT * FROM public.effects WHERE handler = 'shop.record'")).toBe(10_000);
    expect(
      await countWhere(pool, "SELECT DISTINCT event_id FROM public.effects WHERE handler = 'shop.record'"),
    ).toBe(10_000);
    expect(
      await countWhere(pool, "SELECT * FROM cutover.event_handled WHERE handler_name = 'shop.record'"),
    ).toBe(10_000);
    // Every effect was written by a worker of the event's own generation.
    const { rows } = await pool.query<{
      worker: string;
      generation: number;
      row_gen: number;
      claimed_by: string;
    }>(
      `SELECT e.worker, e.generation, o.generation AS row_gen, o.claimed_by
       FROM public.effects e JOIN public.completed o ON o.id = e.event_id WHERE e.handler = 'shop.record'`,
    );
    expect(rows).toHaveLength(10_000);
    const wrong = rows.filter(
      (r) => genOf.get(r.worker) !== r.row_gen || r.generation !== r.row_gen || r.claimed_by !== r.worker,
    );
    expect(wrong).toEqual([]);
    // Work was spread: every consumer handled something of its generation.
    const perWorker = new Set(rows.map((r) => r.worker));
    expect(perWorker.size).toBe(8);
    const handledTotal = consumers.all.reduce((n, c) => n + c.metrics().handled.total, 0);
    expect(handledTotal).toBe(10_000);
  });

  it("stop() is idempotent, safe before start, marks the worker exited and leaves no connection open", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool);
    const never = createConsumer({
      databaseUrl: db.current.url,
      generation: gen,
      handlers: [recorder("shop.never")],
    });
    await never.stop();
    await never.stop();
    expect(never.health().state).toBe("stopped");
    await expect(never.start()).rejects.toMatchObject({ code: "CONSUMER_STATE" });

    const c = createConsumer({
      databaseUrl: db.current.url,
      generation: gen,
      handlers: [recorder("shop.stopper")],
    });
    await c.start();
    expect(await connectionsOf(pool, c.workerId)).toBeGreaterThan(0);
    const { rows: running } = await pool.query("SELECT status FROM cutover.workers WHERE id = $1", [
      c.workerId,
    ]);
    expect(running[0].status).toBe("running");
    const s1 = c.stop();
    const s2 = c.stop();
    await Promise.all([s1, s2]);
    await c.stop();
    expect(c.health().state).toBe("stopped");
    // A stopped consumer does not start again (it would claim nothing while start() said it had).
    await expect(c.start()).rejects.toMatchObject({ code: "CONSUMER_STATE" });
    await expect(c.drain()).rejects.toMatchObject({ code: "CONSUMER_STATE" });
    const { rows } = await pool.query("SELECT status FROM cutover.workers WHERE id = $1", [c.workerId]);
    expect(rows[0].status).toBe("exited");
    await waitFor(async () => (await connectionsOf(pool, c.workerId)) === 0);
  });

  it("rejects bad handler sets and options with typed errors naming the problem", () => {
    const base = { databaseUrl: db.current.url, generation: 1 };
    const h = recorder("shop.ok");
    expect(() => createConsumer({ ...base, handlers: [{ ...h, name: "nodot" }] })).toThrow(
      expect.objectContaining({ code: "HANDLER_INVALID" }),
    );
    expect(() => createConsumer({ ...base, handlers: [h, { ...h }] })).toThrow(
      expect.objectContaining({ code: "HANDLER_DUPLICATE" }),
    );
    expect(() => createConsumer({ ...base, handlers: [{ ...h, topics: ["nope.topic"] }], events })).toThrow(
      expect.objectContaining({ code: "HANDLER_INVALID" }),
    );
    expect(() => createConsumer({ ...base, handlers: [h], concurrency: 0 })).toThrow(/concurrency/);
    expect(() => createConsumer({ generation: 1, handlers: [h] })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID" }),
    );
    expect(() => createConsumer({ databaseUrl: db.current.url, env: {}, handlers: [h] })).toThrow(
      expect.objectContaining({ code: "GENERATION_MISSING" }),
    );
  });

  it("start() fails with GENERATION_NOT_ALLOCATED and leaves nothing open", async () => {
    const c = createConsumer({
      databaseUrl: db.current.url,
      generation: 999_999,
      handlers: [recorder("shop.ghost")],
    });
    await expect(c.start()).rejects.toMatchObject({ code: "GENERATION_NOT_ALLOCATED" });
    expect(c.health().state).toBe("stopped");
    await c.stop();
    await waitFor(async () => (await connectionsOf(db.current.pool, c.workerId)) === 0);
  });
});
