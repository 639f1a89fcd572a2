/**
 * The `completion` option: "delete" (the default) deletes a handled event's
 * row in the chunk's transaction, behind the same fence as every release;
 * "keep" marks it `done` with processed_at, for the pruner to delete after
 * retention.doneAfterMs. Either way the event_handled rows committed with it
 * record that the event was handled.
 */
import {
  type ConsumerEvents,
  createConsumer,
  isCutoverError,
  outboxStatus,
  pruneProcessed,
} from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { processChunk } from "../src/consumer/chunk/chunk.js";
import { chunkEnv, claimRows } from "./support/chunk.js";
import { completedCount, eventState, eventStates } from "./support/completion.js";
import {
  countWhere,
  createEffects,
  newGeneration,
  publisherFor,
  recorder,
  useConsumers,
  waitFor,
} from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

/** Publishes one order.placed event with idempotency key `key`; its id, or null for a duplicate. */
async function publishKey(generation: number, key: string, n: number): Promise<string | null> {
  const pool = db.current.pool;
  const pub = await publisherFor(pool, generation);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const r = await pub.publish(client, "order.placed", { orderId: key, n }, { idempotencyKey: key });
    await client.query("COMMIT");
    return r.duplicate ? null : r.id!;
  } finally {
    client.release();
  }
}

describe("completion: delete (the default)", () => {
  it("is the default, and an unknown value is refused naming the option", () => {
    const make = (completion: unknown) =>
      createConsumer({
        databaseUrl: "postgres://x@127.0.0.1/x",
        generation: 1,
        handlers: [recorder("c.opt")],
        completion: completion as "delete",
      });
    expect(() => make("delete")).not.toThrow();
    expect(() => make("keep")).not.toThrow();
    let err: unknown;
    try {
      make("drop");
    } catch (e) {
      err = e;
    }
    expect(isCutoverError(err) && err.code).toBe("CONFIG_INVALID");
    expect((err as Error).message).toMatch(/consumer option completion/);
  });

  it("a key published again after its event completed is stored again; its handler is skipped, and that row completes too", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "republish");
    const c = consumers.create({ generation: gen, pollIntervalMs: 50, handlers: [recorder("c.once")] });
    const handled: Array<ConsumerEvents["handled"]> = [];
    c.on("handled", (h) => handled.push(h));
    await c.start();

    const first = await publishKey(gen, "K", 1);
    expect(first).not.toBeNull();
    await waitFor(async () => (await eventState(pool, first!)) === "completed");
    // While the first row was in the outbox a second publish would have been a
    // duplicate; once it is deleted, the publish dedupe no longer sees it.
    const second = await publishKey(gen, "K", 2);
    expect(second).not.toBeNull();
    expect(second).not.toBe(first);
    await waitFor(() => handled.length === 2);
    await waitFor(
      async () => (await countWhere(pool, "SELECT 1 FROM cutover.outbox WHERE id = $1", [second])) === 0,
    );

    // The handler ran once: its (handler, key) row from the first event made
    // the second one a skip, and that row is the record the second completed.
    expect(await countWhere(pool, "SELECT 1 FROM public.effects WHERE key = 'K'")).toBe(1);
    expect(handled.map((h) => ({ id: h.id, handlers: h.handlers, skipped: h.skipped }))).toEqual([
      { id: first, handlers: ["c.once"], skipped: [] },
      { id: second, handlers: [], skipped: ["c.once"] },
    ]);
    expect(
      (await pool.query("SELECT event_id::text AS e FROM cutover.event_handled WHERE idempotency_key = 'K'"))
        .rows,
    ).toEqual([{ e: first }]);
    expect(await countWhere(pool, "SELECT 1 FROM cutover.outbox WHERE generation = $1", [gen])).toBe(0);
  });

  it("per-key order holds: a deleted row is as closed as a done one for the next event of its key", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "order");
    const order: number[] = [];
    const c = consumers.create({
      generation: gen,
      concurrency: 4,
      batchSize: 5,
      pollIntervalMs: 20,
      handlers: [
        {
          name: "c.order",
          topics: ["order.placed"],
          async handle(e) {
            order.push((e.payload as { n: number }).n);
            await new Promise((r) => setTimeout(r, 2));
          },
        },
      ],
    });
    const pub = await publisherFor(pool, gen);
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await pub.publishBatch(
        client,
        Array.from({ length: 40 }, (_, n) => ({
          topic: "order.placed" as const,
          payload: { orderId: `o-${n}`, n },
          orderingKey: "one-key",
        })),
      );
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    await c.start();
    await waitFor(() => order.length === 40);
    expect(order).toEqual(Array.from({ length: 40 }, (_, n) => n));
    await waitFor(async () => (await completedCount(pool, gen)) === 40);
    expect(await countWhere(pool, "SELECT 1 FROM cutover.outbox WHERE generation = $1", [gen])).toBe(0);
  });
});

describe.each(["delete", "keep"] as const)("completion %s: a short completion", (completion) => {
  it("names the rows taken from the chunk and leaves them to their new owner; completes the rest", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, `short-${completion}`);
    let takenId = "";
    const env = chunkEnv(
      pool,
      gen,
      [
        {
          name: `c.short-${completion}`,
          topics: ["order.placed"],
          async handle(e) {
            if ((e.payload as { n: number }).n !== 1) return;
            // While the chunk runs, a reaper and another worker take this row
            // (the chunk's KEY SHARE lock does not block this update).
            takenId = e.id;
            await pool.query(
              "UPDATE cutover.outbox SET claimed_by = 'new-owner', attempts = attempts + 1 WHERE id = $1",
              [e.id],
            );
          },
        },
      ],
      { completion },
    );
    const rows = await claimRows(pool, env, 3);
    const res = await processChunk(env, rows);
    expect(res.kind).toBe("committed");
    if (res.kind !== "committed") return;
    expect(res.fencedOut).toEqual([takenId]);
    const { rows: taken } = await pool.query(
      "SELECT status, claimed_by, attempts, processed_at FROM cutover.outbox WHERE id = $1",
      [takenId],
    );
    expect(taken).toEqual([
      { status: "in_flight", claimed_by: "new-owner", attempts: 2, processed_at: null },
    ]);
    const others = rows.filter((r) => r.id !== takenId).map((r) => r.id);
    const states = await Promise.all(others.map((id) => eventState(pool, id)));
    expect(states).toEqual(completion === "delete" ? ["completed", "completed"] : ["done", "done"]);
  });
});

describe("completion: keep", () => {
  it("marks handled rows done with processed_at; status counts them; the pruner deletes them past retention, then their key rows", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "keep");
    const c = consumers.create({
      generation: gen,
      completion: "keep",
      pollIntervalMs: 50,
      handlers: [recorder("c.keep")],
    });
    await c.start();
    for (let n = 0; n < 5; n++) await publishKey(gen, `keep-${n}`, n);
    await waitFor(
      async () =>
        (await countWhere(pool, "SELECT 1 FROM cutover.outbox WHERE generation = $1 AND status = 'done'", [
          gen,
        ])) === 5,
    );
    const { rows } = await pool.query(
      `SELECT status, attempts, claimed_by, processed_at IS NOT NULL AS processed, lease_expires_at
         FROM cutover.outbox WHERE generation = $1`,
      [gen],
    );
    expect(rows).toEqual(
      Array(5).fill({
        status: "done",
        attempts: 1,
        claimed_by: c.workerId,
        processed: true,
        lease_expires_at: null,
      }),
    );
    // A kept row still dedupes its key at publish.
    expect(await publishKey(gen, "keep-0", 99)).toBeNull();
    expect((await eventStates(pool, gen)).map((e) => e.status)).toEqual(Array(5).fill("done"));
    expect(await completedCount(pool, gen)).toBe(5);
    const status = await outboxStatus(pool);
    expect(status.generations.find((g) => g.generation === gen)).toMatchObject({ done: 5, pending: 0 });

    // Within retention nothing goes; past it the done rows, then their key rows.
    const prune = (doneOlderThanMs: number, handledOlderThanMs: number) =>
      pruneProcessed(pool, { doneOlderThanMs, handledOlderThanMs, generation: gen });
    expect(await prune(3_600_000, 3_600_000)).toEqual({
      outbox: 0,
      eventHandled: 0,
    });
    expect(await prune(0, 0)).toEqual({ outbox: 5, eventHandled: 5 });
    expect(await countWhere(pool, "SELECT 1 FROM public.effects WHERE handler = 'c.keep'")).toBe(5);
  });

  it("a keep consumer's done rows and a delete consumer's completions live side by side (an older generation's worker writes done rows)", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const older = await newGeneration(pool, "older");
    const newer = await newGeneration(pool, "newer");
    const a = consumers.create({ generation: older, completion: "keep", handlers: [recorder("c.mixed")] });
    const b = consumers.create({ generation: newer, handlers: [recorder("c.mixed")] });
    for (let n = 0; n < 3; n++) await publishKey(older, `old-${n}`, n);
    for (let n = 0; n < 3; n++) await publishKey(newer, `new-${n}`, n);
    expect(await a.drain({ timeoutMs: 10_000 })).toMatchObject({ handled: 3, remaining: 0 });
    expect(await b.drain({ timeoutMs: 10_000 })).toMatchObject({ handled: 3, remaining: 0 });
    expect((await eventStates(pool, older)).map((e) => e.status)).toEqual(["done", "done", "done"]);
    expect((await eventStates(pool, newer)).map((e) => e.status)).toEqual([
      "completed",
      "completed",
      "completed",
    ]);
    // The event_handled prune takes key rows whose event is done or gone, never an open one.
    await Promise.all([a.stop(), b.stop()]);
    await publishKey(newer, "new-open", 9);
    await pool.query(
      "UPDATE cutover.event_handled SET handled_at = now() - interval '1 hour' WHERE generation = ANY($1)",
      [[older, newer]],
    );
    await pool.query(
      `INSERT INTO cutover.event_handled (handler_name, idempotency_key, event_id, generation, handled_at)
       SELECT 'c.other', idempotency_key, id, generation, now() - interval '1 hour' FROM cutover.outbox
        WHERE idempotency_key = 'new-open'`,
    );
    const prune = (generation: number) =>
      pruneProcessed(pool, { doneOlderThanMs: 0, handledOlderThanMs: 60_000, generation });
    expect(await prune(older)).toEqual({ outbox: 3, eventHandled: 3 });
    expect(await prune(newer)).toEqual({ outbox: 0, eventHandled: 3 });
    expect(
      (
        await pool.query("SELECT handler_name FROM cutover.event_handled WHERE generation = ANY($1)", [
          [older, newer],
        ])
      ).rows,
    ).toEqual([{ handler_name: "c.other" }]);
  });
});
