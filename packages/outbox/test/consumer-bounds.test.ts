import type { ConsumerEvents, HandlerContext, OutboxEvent } from "@cutover/outbox";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { decideOutcome, isInfrastructureFailure } from "../src/consumer/outcome.js";
import { completedCount, eventStates } from "./support/completion.js";
import {
  countWhere,
  createEffects,
  newGeneration,
  publisherFor,
  publishMany,
  recordEffect,
  useConsumers,
  waitFor,
} from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

const fast = { pollIntervalMs: 50, backoff: { baseMs: 5, maxMs: 40 } };

async function backendOf(ctx: HandlerContext): Promise<number> {
  const { rows } = await ctx.tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  return rows[0]!.pid;
}

describe("failure accounting: only a handler's own failure costs an attempt", () => {
  it("an event whose chunk connection is killed 5 times with maxAttempts 2 is still handled, once, never dead", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "flap");
    let kills = 0;
    const c = consumers.create({
      generation: gen,
      maxAttempts: 2,
      ...fast,
      handlers: [
        {
          name: "flap.record",
          topics: ["order.placed"],
          async handle(event: OutboxEvent, ctx: HandlerContext) {
            await recordEffect(ctx.tx, "flap.record", event);
            if (kills < 5) {
              kills++;
              // The chunk's connection breaks under the handler (a restart,
              // a failover, a proxy reset): its backend is terminated.
              await pool.query("SELECT pg_terminate_backend($1)", [await backendOf(ctx)]);
            }
          },
        },
      ],
    });
    const failed: Array<ConsumerEvents["failed"]> = [];
    const dead: Array<ConsumerEvents["dead"]> = [];
    c.on("failed", (f) => failed.push(f));
    c.on("dead", (d) => dead.push(d));
    const handled: Array<ConsumerEvents["handled"]> = [];
    c.on("handled", (h) => handled.push(h));
    await c.start();
    await publishMany(pool, await publisherFor(pool, gen), 1, { prefix: "flap" });
    await waitFor(async () => (await completedCount(pool, gen)) === 1);
    expect(kills).toBe(5);
    expect((await eventStates(pool, gen)).map((e) => e.status)).toEqual(["completed"]);
    // Each lost connection gave its attempt back: the run that succeeded is attempt 1.
    expect(handled.map((h) => h.attempt)).toEqual([1]);
    expect(failed).toEqual([]);
    expect(dead).toEqual([]);
    // The five killed runs' writes rolled back with their transactions.
    expect(await countWhere(pool, "SELECT 1 FROM public.effects WHERE handler = 'flap.record'")).toBe(1);
  });

  it("a handler that throws is still charged: retried with backoff, then dead at maxAttempts", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "throws");
    const c = consumers.create({
      generation: gen,
      maxAttempts: 3,
      ...fast,
      handlers: [
        {
          name: "throws.always",
          topics: ["order.placed"],
          async handle() {
            throw new Error("the API said no");
          },
        },
      ],
    });
    const failed: Array<ConsumerEvents["failed"]> = [];
    c.on("failed", (f) => failed.push(f));
    await c.start();
    await publishMany(pool, await publisherFor(pool, gen), 1, { prefix: "throws" });
    await waitFor(
      async () =>
        (await countWhere(pool, "SELECT 1 FROM cutover.outbox WHERE generation = $1 AND status = 'dead'", [
          gen,
        ])) === 1,
    );
    expect(failed.map((f) => [f.attempt, f.retryInMs === null])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
  });

  it("decideOutcome: infrastructure and shutdown release; a handler failure retries, then goes dead", () => {
    // random() just below 1 draws the longest delay: the cap, baseMs * 2^(attempt-1).
    const policy = { maxAttempts: 3, backoff: { baseMs: 100, maxMs: 10_000 } };
    const top = () => 0.999_999;
    expect(decideOutcome({ by: "infrastructure" }, 3, policy)).toEqual({ kind: "released" });
    expect(decideOutcome({ by: "shutdown" }, 9, policy)).toEqual({ kind: "released" });
    expect(decideOutcome({ by: "handler", permanent: false }, 2, policy, top)).toEqual({
      kind: "retry",
      retryInMs: 200,
    });
    expect(decideOutcome({ by: "handler", permanent: false }, 3, policy)).toEqual({ kind: "dead" });
    expect(decideOutcome({ by: "handler", permanent: true }, 1, policy)).toEqual({ kind: "dead" });
    expect(decideOutcome({ by: "unknown" }, 1, policy, top)).toEqual({ kind: "retry", retryInMs: 100 });
    expect(isInfrastructureFailure(Object.assign(new Error("x"), { code: "55P03" }))).toBe(true);
    expect(isInfrastructureFailure(new Error("Query read timeout"))).toBe(true);
    expect(isInfrastructureFailure(Object.assign(new Error("x"), { code: "23505" }))).toBe(false);
  });
});

describe("a reaped row keeps its place", () => {
  it("is claimed before the rows published after it", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "place");
    const pub = await publisherFor(pool, gen);
    await publishMany(pool, pub, 1, { prefix: "first" });
    // A worker that is gone (no workers row) claimed it and never came back.
    await pool.query(
      `UPDATE cutover.outbox SET status = 'in_flight', claimed_by = 'gone', attempts = 1,
         lease_expires_at = now() - interval '1 second' WHERE generation = $1`,
      [gen],
    );
    await new Promise((r) => setTimeout(r, 20));
    await publishMany(pool, pub, 5, { prefix: "later" });
    // A reaper of this generation (its handlers serve another topic, so it claims nothing) re-pends it.
    const reaper = consumers.create({
      generation: gen,
      reaperIntervalMs: 50,
      handlers: [{ name: "place.other", topics: ["order.shipped"], handle: async () => {} }],
    });
    await reaper.start();
    await waitFor(
      async () =>
        (await countWhere(pool, "SELECT 1 FROM cutover.outbox WHERE generation = $1 AND status = 'pending'", [
          gen,
        ])) === 6,
    );
    await reaper.stop();
    const order: string[] = [];
    const c = consumers.create({
      generation: gen,
      concurrency: 1,
      batchSize: 1,
      pollIntervalMs: 50,
      handlers: [
        {
          name: "place.record",
          topics: ["order.placed"],
          handle: async (e: OutboxEvent) => void order.push((e.payload as { orderId: string }).orderId),
        },
      ],
    });
    await c.start();
    await waitFor(() => order.length === 6);
    expect(order).toEqual(["first-0", "later-0", "later-1", "later-2", "later-3", "later-4"]);
  });
});

describe("bounded sessions", () => {
  for (const own of [true, false]) {
    it(`a chunk transaction runs with idle, statement and lock timeouts (${own ? "its own pool" : "a pool it was given"})`, async () => {
      const pool = db.current.pool;
      const gen = await newGeneration(pool, "bounds");
      const given = own ? undefined : new pg.Pool({ connectionString: db.current.url, max: 8 });
      const seen: Array<Record<string, string>> = [];
      try {
        const c = consumers.create({
          generation: gen,
          handlerTimeoutMs: 4000,
          ...(given ? { pool: given } : {}),
          ...fast,
          handlers: [
            {
              name: "bounds.show",
              topics: ["order.placed"],
              async handle(_e: OutboxEvent, ctx: HandlerContext) {
                const { rows } = await ctx.tx.query<Record<string, string>>(
                  `SELECT current_setting('idle_in_transaction_session_timeout') AS idle,
                     current_setting('statement_timeout') AS stmt, current_setting('lock_timeout') AS lock`,
                );
                seen.push(rows[0]!);
              },
            },
          ],
        });
        await c.start();
        await publishMany(pool, await publisherFor(pool, gen), 1, { prefix: "bounds" });
        await waitFor(() => seen.length === 1);
        // handlerTimeoutMs + 2 x 500 ms grace + 1 s
        expect(seen[0]).toEqual({ idle: "6s", stmt: "6s", lock: "6s" });
        await c.stop();
      } finally {
        await given?.end();
      }
    });
  }

  it("a worker frozen mid-chunk delays no one: its rows stay locked, fresh events flow, and once the server ends its transaction its rows are reaped and handled once", async () => {
    // The frozen worker is simulated by hand on one connection, exactly as a
    // chunk leaves it: key rows inserted and the rows locked by the chunk's
    // first statement, then silence. The chaos suite does it with SIGSTOP.
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "frozen");
    const pub = await publisherFor(pool, gen);
    await publishMany(pool, pub, 3, { prefix: "held" });
    const frozen = new pg.Client({
      connectionString: db.current.url,
      idle_in_transaction_session_timeout: 3000,
    });
    frozen.on("error", () => {});
    await frozen.connect();
    const frozenPid = (await frozen.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
    await frozen.query(
      `UPDATE cutover.outbox SET status = 'in_flight', claimed_by = 'frozen', attempts = 1,
         lease_expires_at = now() + interval '200 milliseconds' WHERE generation = $1`,
      [gen],
    );
    await frozen.query("BEGIN");
    await frozen.query(
      `SELECT o.id FROM cutover.outbox o WHERE o.generation = $1 AND claimed_by = 'frozen' FOR KEY SHARE`,
      [gen],
    );
    await frozen.query(
      `INSERT INTO cutover.event_handled (handler_name, idempotency_key, event_id, generation)
       SELECT 'frozen.record', idempotency_key, id, generation FROM cutover.outbox WHERE claimed_by = 'frozen'`,
    );
    const handledAt = new Map<string, number>();
    const c = consumers.create({
      generation: gen,
      leaseMs: 1000,
      reaperIntervalMs: 50,
      staleAfterMs: 500,
      heartbeatIntervalMs: 100,
      ...fast,
      handlers: [
        {
          name: "frozen.record",
          topics: ["order.placed"],
          async handle(event: OutboxEvent, ctx: HandlerContext) {
            await recordEffect(ctx.tx, "frozen.record", event);
            handledAt.set((event.payload as { orderId: string }).orderId, Date.now());
          },
        },
      ],
    });
    await c.start();
    await publishMany(pool, pub, 5, { prefix: "fresh" });
    // Fresh events are handled while the frozen transaction still holds its
    // rows and keys (it is still open, idle in transaction, when they are
    // done), although the frozen rows' leases expired meanwhile: the frozen
    // peer delays no one. Checked by state, not by a wall-clock bound, so a
    // loaded machine cannot fail it (the chaos suite measures the times).
    await waitFor(() => [...handledAt.keys()].filter((k) => k.startsWith("fresh")).length === 5);
    const { rows: held } = await pool.query<{ state: string }>(
      "SELECT state FROM pg_stat_activity WHERE pid = $1",
      [frozenPid],
    );
    expect(held.map((r) => r.state)).toEqual(["idle in transaction"]);
    expect([...handledAt.keys()].filter((k) => k.startsWith("held"))).toEqual([]);
    // The server ends the frozen transaction (idle_in_transaction_session_timeout):
    // its keys roll back and the reaper returns its rows. A run whose chunk
    // did not commit (e.g. its lease lapsed on a slow machine) is rolled back
    // and runs again, so wait for the committed end state, then check each
    // effect exists once.
    await waitFor(async () => (await completedCount(pool, gen)) === 8);
    await expect(frozen.query("COMMIT")).rejects.toThrow();
    expect(await countWhere(pool, "SELECT 1 FROM public.effects WHERE handler = 'frozen.record'")).toBe(8);
    expect(handledAt.size).toBe(8);
    await frozen.end().catch(() => {});
  });
});
