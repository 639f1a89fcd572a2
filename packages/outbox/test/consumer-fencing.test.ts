import { outboxStatus, pruneProcessed } from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { completedCount, eventState } from "./support/completion.js";
import {
  countWhere,
  createEffects,
  newGeneration,
  publisherFor,
  publishMany,
  recorder,
  useConsumers,
  waitFor,
} from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

describe("generation fencing", () => {
  it("a gen-1 worker never claims, completes or reaps a gen-2 row; drain of gen 1 leaves gen 2 alone; status reports the orphan", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen1 = await newGeneration(pool, "one");
    const gen2 = await newGeneration(pool, "two");
    await publishMany(pool, await publisherFor(pool, gen2), 20, { prefix: "g2" });
    // A gen-2 row stuck in flight under a vanished worker, lease long expired.
    await pool.query(
      `UPDATE cutover.outbox SET status = 'in_flight', claimed_by = 'gone', attempts = 1, lease_expires_at = now() - interval '1 hour'
       WHERE id = (SELECT min(id) FROM cutover.outbox WHERE generation = $1)`,
      [gen2],
    );
    const before = (
      await pool.query(
        "SELECT id, status, attempts, claimed_by, lease_expires_at FROM cutover.outbox WHERE generation = $1 ORDER BY id",
        [gen2],
      )
    ).rows;
    const c1 = consumers.create({
      generation: gen1,
      reaperIntervalMs: 20,
      pollIntervalMs: 20,
      staleAfterMs: 200,
      heartbeatIntervalMs: 50,
      handlers: [recorder("fence.one")],
    });
    await c1.start();
    await publishMany(pool, await publisherFor(pool, gen1), 5, { prefix: "g1" });
    expect(await c1.drain({ timeoutMs: 10_000 })).toEqual({ handled: 5, dead: 0, remaining: 0 });
    await waitFor(() => (c1.health().reaper.lastRunAt?.getTime() ?? 0) > Date.now() - 50);
    const after = (
      await pool.query(
        "SELECT id, status, attempts, claimed_by, lease_expires_at FROM cutover.outbox WHERE generation = $1 ORDER BY id",
        [gen2],
      )
    ).rows;
    expect(after).toEqual(before);
    expect(c1.metrics().reaped.total).toBe(0);

    // drain() has returned, but the workers row says so only at the next heartbeat (50 ms here):
    // on a loaded machine the read below can still see 'draining'.
    await waitFor(async () => {
      const s = await outboxStatus(pool, { staleAfterMs: 5000 });
      return s.workers.find((w) => w.id === c1.workerId)?.status === "running";
    });
    const status = await outboxStatus(pool, { staleAfterMs: 5000 });
    const g2 = status.generations.find((g) => g.generation === gen2)!;
    expect(g2).toMatchObject({ pending: 19, inFlight: 1, liveWorkers: 0, orphaned: true, version: "two" });
    // Completion deletes the rows: none is left `done`; their key rows record them.
    expect(await completedCount(pool, gen1)).toBe(5);
    expect(status.generations.find((g) => g.generation === gen1)).toMatchObject({
      done: 0,
      orphaned: false,
      liveWorkers: 1,
    });
    expect(status.workers.find((w) => w.id === c1.workerId)).toMatchObject({
      status: "running",
      stale: false,
      generation: gen1,
    });

    // Gen 2's own worker reaps its stuck row and handles all of it.
    const c2 = consumers.create({
      generation: gen2,
      handlers: [recorder("fence.two")],
    });
    expect(await c2.drain({ timeoutMs: 10_000 })).toEqual({ handled: 20, dead: 0, remaining: 0 });
    expect(c2.metrics().reaped.total).toBe(1);
    const { rows } = await pool.query<{ handler: string; generation: number; worker: string }>(
      "SELECT DISTINCT handler, generation, worker FROM public.effects ORDER BY generation",
    );
    expect(rows).toEqual([
      { handler: "fence.one", generation: gen1, worker: c1.workerId },
      { handler: "fence.two", generation: gen2, worker: c2.workerId },
    ]);

    // Housekeeping: no done rows are left to prune (completion deleted them);
    // the key rows go once past retention, their events gone.
    expect(await pruneProcessed(pool, { doneOlderThanMs: 0, handledOlderThanMs: 0 })).toEqual({
      outbox: 0,
      eventHandled: 25,
    });
  });

  it("a stale release after the reaper re-assigned the row is refused by the fence", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "stale");
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered = false;
    let zombiePid = 0;
    const zombie = consumers.create({
      generation: gen,
      workerId: "zombie",
      // It will not refresh its heartbeat in time: the others will think it is gone.
      heartbeatIntervalMs: 60_000,
      staleAfterMs: 120_000,
      handlers: [
        {
          name: "stale.record",
          topics: ["order.placed"],
          async handle(_event, ctx) {
            const { rows } = await ctx.tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
            zombiePid = rows[0]!.pid;
            entered = true;
            await gate;
            throw new Error("late failure from a worker that lost its row");
          },
        },
      ],
    });
    const zombieFailed: string[] = [];
    zombie.on("failed", (f) => zombieFailed.push(f.id));
    await zombie.start();
    await publishMany(pool, await publisherFor(pool, gen), 1, { prefix: "stale" });
    await waitFor(() => entered);
    const [{ id }] = (await pool.query("SELECT id::text FROM cutover.outbox WHERE generation = $1", [gen]))
      .rows;
    await pool.query("UPDATE cutover.workers SET last_seen = now() - interval '1 hour' WHERE id = 'zombie'");
    // While its chunk transaction is open, the row is locked and no reaper
    // takes it. A frozen worker's transaction is ended by the server
    // (idle_in_transaction_session_timeout); here the test ends it.
    await pool.query("SELECT pg_terminate_backend($1)", [zombiePid]);

    const heir = consumers.create({
      generation: gen,
      workerId: "heir",
      staleAfterMs: 1000,
      heartbeatIntervalMs: 100,
      reaperIntervalMs: 50,
      pollIntervalMs: 50,
      handlers: [recorder("stale.record")],
    });
    const heirAttempts: Array<[string, number]> = [];
    heir.on("handled", (h) => heirAttempts.push([h.id, h.attempt]));
    await heir.start();
    // The heir re-pends, re-claims and handles the row (and deletes it: so
    // wait for its report, not for a row claimed by it).
    await waitFor(() => heirAttempts.length > 0);
    release();
    // stop() waits for the chunk in hand: the zombie's late failure is over by then.
    await zombie.stop({ timeoutMs: 5000 });
    expect(await eventState(pool, id)).toBe("completed");
    // Completed by the heir, at the attempt after the zombie's.
    expect(heirAttempts).toEqual([[id, 2]]);
    // The zombie's retry release matched nothing, so it reported nothing.
    expect(zombieFailed).toEqual([]);
    expect(await countWhere(pool, "SELECT * FROM public.effects WHERE event_id = $1", [id])).toBe(1);
    expect(await countWhere(pool, "SELECT * FROM cutover.event_handled WHERE event_id = $1", [id])).toBe(1);
  });

  it("a late completion of a row re-pended meanwhile is fenced off and named in a warning", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "late-done");
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let runs = 0;
    const warnings: Array<{ msg?: string; obj: Record<string, unknown> }> = [];
    const noop = () => {};
    const zombie = consumers.create({
      generation: gen,
      workerId: "late-zombie",
      pollIntervalMs: 50,
      logger: { debug: noop, info: noop, error: noop, warn: (obj, msg) => warnings.push({ obj, msg }) },
      handlers: [
        {
          name: "late.done",
          topics: ["order.placed"],
          async handle() {
            runs++;
            if (runs === 1) await gate;
          },
        },
      ],
    });
    const attempts: number[] = [];
    zombie.on("handled", (h) => attempts.push(h.attempt));
    await zombie.start();
    await publishMany(pool, await publisherFor(pool, gen), 1, { prefix: "late" });
    await waitFor(() => runs === 1);
    const [{ id }] = (await pool.query("SELECT id::text FROM cutover.outbox WHERE generation = $1", [gen]))
      .rows;
    // What a reaper does to a row whose owner looks gone.
    await pool.query(
      "UPDATE cutover.outbox SET status = 'pending', claimed_by = NULL, lease_expires_at = NULL WHERE id = $1",
      [id],
    );
    release();
    await waitFor(() => warnings.some((w) => (w.obj.ids as string[] | undefined)?.includes(id)));
    // The late completion changed nothing; the row was claimed again (attempt
    // 2) and, its key row committed by the first run, not handled twice.
    await waitFor(async () => (await eventState(pool, id)) === "completed");
    expect(attempts).toEqual([2]);
    expect(runs).toBe(1);
  });

  // The test above re-pends the row, so its status alone fences the late
  // write. Here the row is in flight again, for another worker, when the
  // late result arrives: only `claimed_by = $me` stops it (the safeguard the
  // no-fence mutant of test/chaos/mutants-list.mjs removes).
  it.each(["completes", "fails"] as const)(
    "a worker whose handler %s after its row went in flight for another worker leaves that worker's row alone",
    async (outcome) => {
      const pool = db.current.pool;
      const gen = await newGeneration(pool, `fence-${outcome}`);
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let entered = false;
      const warnings: Array<Record<string, unknown>> = [];
      const failed: string[] = [];
      const noop = () => {};
      const zombie = consumers.create({
        generation: gen,
        workerId: `zombie-${outcome}`,
        pollIntervalMs: 50,
        maxAttempts: 5,
        logger: { debug: noop, info: noop, error: noop, warn: (obj) => warnings.push(obj) },
        handlers: [
          {
            name: `fence.${outcome}`,
            topics: ["order.placed"],
            async handle() {
              entered = true;
              await gate;
              if (outcome === "fails") throw new Error("late failure from a worker that lost its row");
            },
          },
        ],
      });
      const handled: string[] = [];
      zombie.on("failed", (f) => failed.push(f.id));
      zombie.on("handled", (h) => handled.push(h.id));
      await zombie.start();
      await publishMany(pool, await publisherFor(pool, gen), 1, { prefix: `fence-${outcome}` });
      await waitFor(() => entered);
      const [{ id }] = (await pool.query("SELECT id::text FROM cutover.outbox WHERE generation = $1", [gen]))
        .rows;
      // What a reaper and a new owner's claim do to a row whose owner looks
      // gone (the chunk's KEY SHARE lock does not block this update).
      await pool.query(
        `UPDATE cutover.outbox SET status = 'in_flight', claimed_by = 'new-owner', attempts = attempts + 1,
           lease_expires_at = now() + interval '1 hour' WHERE id = $1`,
        [id],
      );
      release();
      const warned = () => warnings.some((w) => (w.ids as string[] | undefined)?.includes(id));
      if (outcome === "completes") {
        // Fenced off, the completion is named in a warning; had it gone
        // through, the event would be reported handled.
        await waitFor(() => warned() || handled.includes(id));
        expect(handled).toEqual([]);
        expect(warned()).toBe(true);
      }
      // stop() waits for the chunk in hand: the failed run's release is over
      // by then, fenced off, and the consumer reported nothing for it.
      await zombie.stop({ timeoutMs: 5000 });
      expect(failed).toEqual([]);
      const { rows } = await pool.query(
        "SELECT status, claimed_by, attempts, last_error FROM cutover.outbox WHERE id = $1",
        [id],
      );
      expect(rows[0]).toEqual({
        status: "in_flight",
        claimed_by: "new-owner",
        attempts: 2,
        last_error: null,
      });
    },
  );
});
