// Review of the chunk's statement order after eager start and ChunkState.ahead
// (86f144a, 560f480): what a handler wrote through ctx.tx must be rolled back
// with its savepoint whenever its run does not count, whatever the order in
// which it issued its statements and settled.
import { retryDead } from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import {
  countWhere,
  createEffects,
  events,
  newGeneration,
  publisherFor,
  useConsumers,
  waitFor,
} from "./support/consumer.js";
import { keyInsertBlocked, publishKeyed, useHeldKeys } from "./support/keys.js";

const db = useTestDatabase();
const consumers = useConsumers(db);
const hold = useHeldKeys();

const insertEffect =
  "INSERT INTO public.effects (handler, event_id, generation, worker) VALUES ($1, $2, $3, $4)";

describe("a failed run's ctx.tx writes are rolled back", () => {
  // A handler that fails while a statement it issued is still pending, e.g.
  // `await Promise.all([ctx.tx.query(...), callApi()])` with the API call
  // failing first. Its statement was accepted by ctx.tx before the run
  // ended, so it must run inside the run's savepoint and be rolled back.
  for (const topics of [["order.placed"], ["order.placed", "order.shipped"]] as const) {
    it(`when the handler failed with its statement still pending (${topics.length === 1 ? "eager-eligible" : "waits for the insert"})`, async () => {
      const pool = db.current.pool;
      await createEffects(pool);
      const gen = await newGeneration(pool);
      const dead: string[] = [];
      const consumer = consumers.create({
        generation: gen,
        events,
        pollIntervalMs: 50,
        maxAttempts: 1,
        handlers: [
          {
            name: "review.fails",
            topics: [...topics],
            async handle(event, ctx) {
              await Promise.all([
                ctx.tx.query(insertEffect, ["review.fails", event.id, event.generation, ctx.workerId]),
                Promise.reject(new Error("the API call failed")),
              ]);
            },
          },
        ],
      });
      consumer.on("dead", (e) => dead.push(e.id));
      await consumer.start();
      const id = await publishKeyed(pool, gen, `F${topics.length}`);
      await waitFor(() => dead.length === 1);
      expect(dead).toEqual([id]);
      expect(
        (await pool.query("SELECT status, last_error FROM cutover.outbox WHERE id = $1", [id])).rows[0],
      ).toMatchObject({ status: "dead", last_error: expect.stringContaining("the API call failed") });
      // The failed run's write must not have committed with the chunk.
      expect(await countWhere(pool, "SELECT 1 FROM public.effects WHERE event_id = $1", [id])).toBe(0);
    });
  }
});

describe("eager start: attempt 1 is not proof that no earlier claim is still running", () => {
  it("a dead row re-queued by retryDead while its earlier run is still open is not claimed until that run ended: the handler is not invoked a second time", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool);
    const invoked: Array<{ worker: string; attempt: number }> = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const handled: Array<{ id: string; handlers: string[]; skipped: string[] }> = [];
    const make = (workerId: string) => {
      const c = consumers.create({
        generation: gen,
        workerId,
        events,
        concurrency: 1,
        pollIntervalMs: 50,
        maxAttempts: 1,
        handlers: [
          {
            name: "review.once",
            topics: ["order.placed"],
            async handle(event, ctx) {
              invoked.push({ worker: ctx.workerId, attempt: event.attempt });
              // The first run is slow (a long call, a paused process): its
              // transaction, with its event_handled row, stays open.
              if (ctx.workerId === "review-x") await gate;
            },
          },
        ],
      });
      c.on("handled", (e) => handled.push({ id: e.id, handlers: e.handlers, skipped: e.skipped }));
      return c;
    };
    const x = make("review-x");
    await x.start();
    const id = await publishKeyed(pool, gen, "R1");
    await waitFor(() => invoked.length === 1);
    // Meanwhile another worker's reaper found the lease expired at the attempt
    // limit (maxAttempts 1) and deaded the row, as the reap statement does...
    await pool.query(
      `UPDATE cutover.outbox SET status = 'dead', processed_at = now(), claimed_by = NULL, lease_expires_at = NULL,
         last_error = 'reaped from worker review-x: lease expired' WHERE id = $1 AND status = 'in_flight'`,
      [id],
    );
    // ...and an operator re-queued it (attempts back to 0).
    expect(await retryDead(pool, { ids: [id] })).toEqual({ requeued: 1 });
    const y = make("review-y");
    await y.start();
    // X's open chunk transaction still holds the row (KEY SHARE, taken by
    // its key insert): Y's claim skips it rather than run it beside X.
    await new Promise((r) => setTimeout(r, 500));
    expect(
      (await pool.query("SELECT status, claimed_by, attempts FROM cutover.outbox WHERE id = $1", [id]))
        .rows[0],
    ).toEqual({ status: "pending", claimed_by: null, attempts: 0 });
    open();
    // X's run commits its key row (its completion is fenced: the row is Y's
    // now); Y must see the key as handled and skip it, never running the
    // handler's code a second time for the same (handler, key).
    await waitFor(() => handled.length === 1);
    expect(handled).toEqual([{ id, handlers: [], skipped: ["review.once"] }]);
    expect(invoked).toEqual([{ worker: "review-x", attempt: 1 }]);
  });
});

describe("eager start and the handler timeout", () => {
  it("a run waiting for its chunk's key insert is not timed out: the insert is not cancelled and its chunk-mates are not failed", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool);
    // Another transaction is recording the first event's (handler, key), as in consumer-eager.test.ts.
    const holder = await hold(pool, "review.timed", "T1", gen);
    // Two events in one chunk: T1 (the claim's lowest id, eager) and T2.
    const pub = await publisherFor(pool, gen);
    const c = await pool.connect();
    let ids: string[];
    try {
      await c.query("BEGIN");
      const r = await pub.publishBatch(c, [
        { topic: "order.placed", payload: { orderId: "T1", n: 1 }, idempotencyKey: "T1" },
        { topic: "order.placed", payload: { orderId: "T2", n: 2 }, idempotencyKey: "T2" },
      ]);
      await c.query("COMMIT");
      ids = r.map((x) => x.id!);
    } finally {
      c.release();
    }
    const failed: Array<{ id: string; error: string }> = [];
    const handled: Array<{ id: string; handlers: string[]; skipped: string[] }> = [];
    const consumer = consumers.create({
      generation: gen,
      events,
      concurrency: 1,
      pollIntervalMs: 50,
      maxAttempts: 1,
      handlers: [
        {
          name: "review.timed",
          topics: ["order.placed"],
          // Its own work takes one statement; the key insert's wait is not its time.
          timeoutMs: 50,
          async handle(event, ctx) {
            await ctx.tx.query(insertEffect, ["review.timed", event.id, event.generation, ctx.workerId]);
          },
        },
      ],
    });
    consumer.on("failed", (e) => failed.push({ id: e.id, error: e.error }));
    consumer.on("handled", (e) => handled.push({ id: e.id, handlers: e.handlers, skipped: e.skipped }));
    await consumer.start();
    await keyInsertBlocked(pool);
    // Longer than the handler's timeout plus its grace (HANDLER_GRACE_MS):
    // a timed-out run waiting on ctx.tx gets its backend's statement cancelled.
    await new Promise((r) => setTimeout(r, 2000));
    await holder.query("COMMIT");
    await waitFor(() => handled.length + failed.length >= 2);
    expect(failed).toEqual([]);
    expect(handled).toEqual([
      { id: ids[0], handlers: [], skipped: ["review.timed"] },
      { id: ids[1], handlers: ["review.timed"], skipped: [] },
    ]);
  });
});
