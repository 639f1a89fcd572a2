// Eager start: a first-attempt run of a one-topic handler may start before the
// chunk's event_handled insert answers (docs/guarantees.md, "Eager start").
// These tests hold the insert up with a real competing transaction on the same
// (handler, key) and show what runs, what commits and what is skipped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import {
  countWhere,
  createEffects,
  events,
  newGeneration,
  useConsumers,
  waitFor,
} from "./support/consumer.js";
import { keyInsertBlocked, publishKeyed, useHeldKeys } from "./support/keys.js";

const db = useTestDatabase();
// pg prints "Calling client.query() when the client is already executing a
// query is deprecated" (once per process) when a second query is queued
// inside it; the chunk must never do that to a user's logs (checked last).
const warnings: string[] = [];
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
beforeAll(() => {
  process.on("warning", onWarning);
});
afterAll(() => {
  process.off("warning", onWarning);
});
const consumers = useConsumers(db);
const hold = useHeldKeys();

function start(
  generation: number,
  handler: {
    name: string;
    topics: Array<"order.placed" | "order.shipped">;
  },
) {
  const invoked: Array<{ id: string; attempt: number }> = [];
  const handled: Array<{ id: string; handlers: string[]; skipped: string[] }> = [];
  const consumer = consumers.create({
    generation,
    events,
    pollIntervalMs: 50,
    backoff: { baseMs: 0, maxMs: 0 },
    handlers: [
      {
        name: handler.name,
        topics: handler.topics,
        async handle(event, ctx) {
          invoked.push({ id: event.id, attempt: event.attempt });
          await ctx.tx.query(
            "INSERT INTO public.effects (handler, event_id, generation, worker) VALUES ($1, $2, $3, $4)",
            [handler.name, event.id, event.generation, ctx.workerId],
          );
        },
      },
    ],
  });
  consumer.on("handled", (e) => handled.push({ id: e.id, handlers: e.handlers, skipped: e.skipped }));
  return { consumer, invoked, handled };
}

describe("eager start", () => {
  it("a first-attempt run starts while its insert waits; a row committed meanwhile by another transaction rolls its writes back and it counts as skipped", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool);
    const holder = await hold(pool, "eager.one", "K1", gen);
    const { consumer, invoked, handled } = start(gen, { name: "eager.one", topics: ["order.placed"] });
    await consumer.start();
    const id = await publishKeyed(pool, gen, "K1");
    await keyInsertBlocked(pool);
    // Started although its insert has not answered.
    await waitFor(() => invoked.length === 1);
    await holder.query("COMMIT");
    await waitFor(() => handled.length === 1);
    expect(handled).toEqual([{ id, handlers: [], skipped: ["eager.one"] }]);
    expect(await countWhere(pool, "SELECT 1 FROM public.effects WHERE event_id = $1", [id])).toBe(0);
    expect(
      (await pool.query("SELECT event_id::text AS e FROM cutover.event_handled WHERE idempotency_key = 'K1'"))
        .rows,
    ).toEqual([{ e: "0" }]);
    // Completed (deleted): its handler's key row above records that the key was handled.
    expect(await countWhere(pool, "SELECT 1 FROM cutover.outbox WHERE id = $1", [id])).toBe(0);
  });

  it("when the other transaction rolls back instead, the eager run's writes commit once", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool);
    const holder = await hold(pool, "eager.one", "K2", gen);
    const { consumer, invoked, handled } = start(gen, { name: "eager.one", topics: ["order.placed"] });
    await consumer.start();
    const id = await publishKeyed(pool, gen, "K2");
    await keyInsertBlocked(pool);
    await waitFor(() => invoked.length === 1);
    await holder.query("ROLLBACK");
    await waitFor(() => handled.length === 1);
    expect(handled).toEqual([{ id, handlers: ["eager.one"], skipped: [] }]);
    expect((await pool.query("SELECT handler, event_id::text AS e FROM public.effects")).rows).toEqual([
      { handler: "eager.one", e: id },
    ]);
    expect(
      (await pool.query("SELECT event_id::text AS e FROM cutover.event_handled WHERE idempotency_key = 'K2'"))
        .rows,
    ).toEqual([{ e: id }]);
  });

  it("a key already recorded and committed (same handler name, another topic, e.g. before a topic rename) is skipped without invoking the handler", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool);
    await pool.query(
      "INSERT INTO cutover.event_handled (handler_name, idempotency_key, event_id, generation) VALUES ('eager.one', 'K3', 0, $1)",
      [gen],
    );
    const { consumer, invoked, handled } = start(gen, { name: "eager.one", topics: ["order.placed"] });
    await consumer.start();
    const id = await publishKeyed(pool, gen, "K3");
    await waitFor(() => handled.length === 1);
    expect(handled).toEqual([{ id, handlers: [], skipped: ["eager.one"] }]);
    expect(invoked).toEqual([]);
  });

  it("a handler of several topics waits for its insert: a concurrent run of the same key on the other topic is never joined", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool);
    const holder = await hold(pool, "eager.multi", "K4", gen);
    const { consumer, invoked, handled } = start(gen, {
      name: "eager.multi",
      topics: ["order.placed", "order.shipped"],
    });
    await consumer.start();
    const id = await publishKeyed(pool, gen, "K4", "order.shipped");
    await keyInsertBlocked(pool);
    // An eager run would have been invoked before its insert was even sent.
    await new Promise((r) => setTimeout(r, 200));
    expect(invoked).toEqual([]);
    await holder.query("COMMIT");
    await waitFor(() => handled.length === 1);
    expect(handled).toEqual([{ id, handlers: [], skipped: ["eager.multi"] }]);
    expect(invoked).toEqual([]);
  });

  it("a re-delivered event (attempt 2: its earlier claim may still be running elsewhere) waits for its insert", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool);
    const id = await publishKeyed(pool, gen, "K5");
    // As the reaper leaves a row whose worker's lease expired: pending again, one attempt counted.
    await pool.query("UPDATE cutover.outbox SET attempts = 1 WHERE id = $1", [id]);
    const holder = await hold(pool, "eager.one", "K5", gen);
    const { consumer, invoked, handled } = start(gen, { name: "eager.one", topics: ["order.placed"] });
    await consumer.start();
    await keyInsertBlocked(pool);
    await new Promise((r) => setTimeout(r, 200));
    expect(invoked).toEqual([]);
    await holder.query("COMMIT");
    await waitFor(() => handled.length === 1);
    expect(handled).toEqual([{ id, handlers: [], skipped: ["eager.one"] }]);
    expect(invoked).toEqual([]);
    expect(await countWhere(pool, "SELECT 1 FROM public.effects WHERE event_id = $1", [id])).toBe(0);
  });

  it("no run above made pg queue a statement behind another (no deprecation warning in the user's logs)", () => {
    expect(warnings.filter((w) => w.includes("already executing a query"))).toEqual([]);
  });
});
