import {
  type ConsumerEvents,
  createConsumer,
  createPublisher,
  type HandlerContext,
  listDead,
  PermanentError,
  retryDead,
} from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { completedCount, eventState } from "./support/completion.js";
import {
  countWhere,
  createEffects,
  events,
  newGeneration,
  publisherFor,
  publishInBatches,
  publishMany,
  recordEffect,
  useConsumers,
  waitFor,
} from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

const fast = { pollIntervalMs: 50, backoff: { baseMs: 5, maxMs: 40 } };

describe("consumer failures", () => {
  it("a poison event goes dead after maxAttempts while 1,000 others flow; re-queued, it is handled once", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "poison");
    let fixed = false;
    const c = consumers.create({
      generation: gen,
      maxAttempts: 4,
      ...fast,
      handlers: [
        {
          name: "poison.record",
          topics: ["order.placed"],
          async handle(event, ctx) {
            const p = event.payload as { orderId: string };
            await recordEffect(ctx.tx, "poison.record", event);
            if (p.orderId === "poison-0" && !fixed) throw new Error(`cannot handle ${p.orderId}`);
          },
        },
      ],
    });
    const failed: Array<ConsumerEvents["failed"]> = [];
    const dead: Array<ConsumerEvents["dead"]> = [];
    c.on("failed", (f) => failed.push(f));
    c.on("dead", (d) => dead.push(d));
    const handledAttempts: Array<[string, number]> = [];
    c.on("handled", (h) => handledAttempts.push([h.id, h.attempt]));
    await c.start();
    const pub = await publisherFor(pool, gen);
    await publishMany(pool, pub, 1, { prefix: "poison" });
    await publishMany(pool, pub, 1000, { prefix: "fine", batch: 100 });
    await waitFor(async () => dead.length === 1 && c.metrics().handled.total === 1000);

    const [row] = (
      await pool.query(
        "SELECT id::text, status, attempts, last_error FROM cutover.outbox WHERE payload->>'orderId' = 'poison-0'",
      )
    ).rows;
    expect(row).toMatchObject({ status: "dead", attempts: 4 });
    expect(row.last_error).toContain("cannot handle poison-0");
    expect(failed.filter((f) => f.id === row.id).map((f) => f.attempt)).toEqual([1, 2, 3, 4]);
    expect(failed.filter((f) => f.id === row.id).map((f) => f.retryInMs === null)).toEqual([
      false,
      false,
      false,
      true,
    ]);
    expect(dead[0]).toMatchObject({ id: row.id, handler: "poison.record", attempt: 4 });
    // Its failed attempts' writes were rolled back with their savepoints.
    expect(await countWhere(pool, "SELECT * FROM public.effects WHERE event_id = $1", [row.id])).toBe(0);
    expect(await countWhere(pool, "SELECT * FROM public.effects WHERE handler = 'poison.record'")).toBe(1000);
    expect(await countWhere(pool, "SELECT * FROM cutover.event_handled WHERE event_id = $1", [row.id])).toBe(
      0,
    );
    const listed = await listDead(pool, { generation: gen });
    expect(listed.map((d) => ({ id: d.id, attempts: d.attempts, topic: d.topic }))).toEqual([
      { id: row.id, attempts: 4, topic: "order.placed" },
    ]);
    expect(c.metrics().dead.byHandler["poison.record"]).toBe(1);

    fixed = true;
    expect(await retryDead(pool, { ids: [row.id] })).toEqual({ requeued: 1 });
    // The re-queue notified the generation's channel: the consumer wakes and handles it once.
    await waitFor(async () => (await eventState(pool, row.id)) === "completed");
    expect(await countWhere(pool, "SELECT * FROM public.effects WHERE event_id = $1", [row.id])).toBe(1);
    // retryDead reset its attempts: handled at attempt 1.
    expect(handledAttempts.filter(([id]) => id === row.id)).toEqual([[row.id, 1]]);
    expect(await retryDead(pool, { ids: [row.id] })).toEqual({ requeued: 0 });
    await expect(retryDead(pool, {})).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });

  it("PermanentError and a payload the catalog rejects go dead at once; zod transforms reach handlers", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "permanent");
    const skus: string[] = [];
    const c = consumers.create({
      generation: gen,
      events,
      ...fast,
      handlers: [
        {
          name: "perm.orders",
          topics: ["order.placed"],
          async handle() {
            throw new PermanentError("webhook said 410 Gone");
          },
        },
        {
          name: "perm.prices",
          topics: ["price.changed"],
          async handle(event) {
            skus.push((event.payload as { sku: string }).sku);
          },
        },
      ],
    });
    const dead: Array<ConsumerEvents["dead"]> = [];
    c.on("dead", (d) => dead.push(d));
    await c.start();
    const pub = await createPublisher({ events, db: pool, generation: gen });
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await pub.publish(client, "order.placed", { orderId: "x", n: 1 });
      await client.query("COMMIT");
      // Rows written behind the publisher's back (an older writer): the consumer
      // re-validates, applying the transform to one and rejecting the other.
      await client.query(
        `INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key) VALUES
         ($1, 'price.changed', '{"sku": "abc", "cents": 5}', 'raw-price'),
         ($1, 'price.changed', '{"sku": "abc", "cents": "five"}', 'bad-price')`,
        [gen],
      );
      await client.query("SELECT pg_notify($1, '0')", [`cutover.gen.${gen}`]);
    } catch (err) {
      await client.query("ROLLBACK");
      throw err;
    } finally {
      client.release();
    }
    await waitFor(() => dead.length === 2 && skus.length === 1);
    expect(skus).toEqual(["ABC"]);
    const { rows } = await pool.query(
      "SELECT topic, status, attempts, last_error FROM cutover.outbox WHERE generation = $1 AND status = 'dead' ORDER BY id",
      [gen],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ topic: "order.placed", attempts: 1 });
    expect(rows[0].last_error).toContain("410 Gone");
    expect(rows[1]).toMatchObject({ topic: "price.changed", attempts: 1 });
    expect(rows[1].last_error).toMatch(/payload rejected by the events catalog.*cents/);
    expect(c.metrics().dead.byHandler["(payload)"]).toBe(1);
  });

  it("a hanging handler is timed out without stalling the others, and its attempt counts", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "hang");
    let hangs = 0;
    const c = consumers.create({
      generation: gen,
      maxAttempts: 2,
      concurrency: 2,
      batchSize: 5,
      ...fast,
      handlers: [
        {
          name: "hang.record",
          topics: ["order.placed"],
          timeoutMs: 300,
          async handle(event, ctx) {
            const p = event.payload as { orderId: string };
            if (p.orderId === "hang-0") {
              hangs++;
              // Stuck in the database: the consumer cancels the query.
              if (hangs === 1) await ctx.tx.query("SELECT pg_sleep(60)");
              // Stuck outside it, ignoring the signal: the consumer gives up on the connection.
              else await new Promise(() => {});
            }
            await recordEffect(ctx.tx, "hang.record", event);
          },
        },
      ],
    });
    const dead: Array<ConsumerEvents["dead"]> = [];
    c.on("dead", (d) => dead.push(d));
    await c.start();
    const pub = await publisherFor(pool, gen);
    await publishMany(pool, pub, 1, { prefix: "hang" });
    await publishMany(pool, pub, 200, { prefix: "ok", batch: 50 });
    await waitFor(() => dead.length === 1);
    await waitFor(async () => (await completedCount(pool, gen)) === 200);
    expect(dead[0]!.error).toMatch(/timed out after 300 ms/);
    expect(hangs).toBe(2);
    expect(await countWhere(pool, "SELECT * FROM public.effects WHERE handler = 'hang.record'")).toBe(200);
    // No backend of the stuck handler is left running.
    expect(
      await countWhere(
        pool,
        "SELECT * FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'",
      ),
    ).toBe(0);
  });

  /**
   * 60 events published in one batch before start: the first claim takes 40
   * rows, two chunks of 20, each with a hanging event at its 6th place; the
   * third hang comes in the next claim, again among good events.
   */
  async function hangAmongGood(name: string, hang: (ctx: HandlerContext) => Promise<void>) {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, name);
    const isHang = (n: number) => n % 20 === 5;
    const runs = { good: 0 };
    const c = consumers.create({
      generation: gen,
      concurrency: 2,
      batchSize: 20,
      pollIntervalMs: 50,
      // A batch-mate failed with backoff would wait minutes: the test would time out.
      backoff: { baseMs: 600_000, maxMs: 600_000 },
      handlers: [
        {
          name: "stuck.record",
          topics: ["order.placed"],
          timeoutMs: 200,
          maxAttempts: 1,
          async handle(event, ctx) {
            const p = event.payload as { n: number };
            if (isHang(p.n)) await hang(ctx);
            runs.good++;
            await recordEffect(ctx.tx, "stuck.record", event);
          },
        },
      ],
    });
    const claimedIds: string[] = [];
    const failed: Array<ConsumerEvents["failed"]> = [];
    c.on("claimed", (e) => claimedIds.push(...e.ids));
    c.on("failed", (f) => failed.push(f));
    const handled: Array<ConsumerEvents["handled"]> = [];
    c.on("handled", (h) => handled.push(h));
    await publishInBatches(pool, await publisherFor(pool, gen), { count: 60, batch: 60 }, (n) => ({
      topic: "order.placed" as const,
      payload: { orderId: `${isHang(n) ? "hang" : "ok"}-${n}`, n },
    }));
    // Read before the consumer starts: a completion deletes the row.
    const { rows: published } = await pool.query<{ id: string; n: number }>(
      "SELECT id::text, (payload->>'n')::int AS n FROM cutover.outbox WHERE generation = $1 ORDER BY id",
      [gen],
    );
    await c.start();
    await waitFor(
      async () =>
        (await completedCount(pool, gen)) +
          (await countWhere(pool, "SELECT * FROM cutover.outbox WHERE generation = $1 AND status = 'dead'", [
            gen,
          ])) ===
        60,
    );
    const { rows } = await pool.query<{
      id: string;
      n: number;
      status: string;
      attempts: number;
      last_error: string | null;
    }>(
      "SELECT id::text, (payload->>'n')::int AS n, status, attempts, last_error FROM cutover.outbox WHERE generation = $1 ORDER BY id",
      [gen],
    );
    const hangs = rows.filter((r) => isHang(r.n));
    const good = published.filter((r) => !isHang(r.n));
    expect(hangs).toHaveLength(3);
    expect(rows).toHaveLength(3);
    for (const h of hangs) expect(h).toMatchObject({ status: "dead", attempts: 1 });
    // Every good event completed (row deleted, key row recorded) at its first attempt.
    for (const g of good) expect(await eventState(pool, g.id), `event ${g.n}`).toBe("completed");
    expect(handled.map((h) => [h.id, h.attempt]).sort()).toEqual(good.map((g) => [g.id, 1]).sort());
    // Every good event was claimed exactly once: never released and re-claimed, no backoff.
    const goodIds = new Set(good.map((r) => r.id));
    expect(claimedIds.filter((id) => goodIds.has(id)).sort()).toEqual([...goodIds].sort());
    expect(failed.map((f) => f.id).sort()).toEqual(hangs.map((r) => r.id).sort());
    expect(
      await countWhere(
        pool,
        "SELECT * FROM public.effects WHERE handler = 'stuck.record' AND generation = $1",
        [gen],
      ),
    ).toBe(57);
    expect(await countWhere(pool, "SELECT * FROM cutover.event_handled WHERE generation = $1", [gen])).toBe(
      57,
    );
    expect(c.metrics().dead.byHandler["stuck.record"]).toBe(3);
    return { hangs, runs, pool };
  }

  it("a handler stuck outside the database, ignoring its signal, is abandoned with its ctx.tx closed; its chunk goes on", async () => {
    const kept: HandlerContext[] = [];
    const { hangs, runs } = await hangAmongGood("abandon", async (ctx) => {
      kept.push(ctx);
      await ctx.tx.query("SELECT 1");
      await new Promise(() => {});
    });
    for (const h of hangs)
      expect(h.last_error).toMatch(/timed out after 200 ms and did not stop; it was abandoned/);
    // No chunk was lost: every good event ran exactly once.
    expect(runs.good).toBe(57);
    expect(kept).toHaveLength(3);
    for (const ctx of kept) {
      expect(ctx.signal.aborted).toBe(true);
      await expect(ctx.tx.query("SELECT 1")).rejects.toMatchObject({ code: "HANDLER_TX_CLOSED" });
    }
  });

  it("a ctx.tx first touched after its run ended is closed from the start", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "late-tx");
    const kept: HandlerContext[] = [];
    const c = consumers.create({
      generation: gen,
      handlers: [
        {
          name: "late.tx",
          topics: ["order.placed"],
          async handle(_event, ctx) {
            kept.push(ctx);
          },
        },
      ],
    });
    const pub = await publisherFor(pool, gen);
    await publishMany(pool, pub, 2, { prefix: "late-tx" });
    expect(await c.drain({ timeoutMs: 10_000 })).toMatchObject({ handled: 2, remaining: 0 });
    expect(kept).toHaveLength(2);
    for (const ctx of kept) {
      await expect(ctx.tx.query("SELECT 1")).rejects.toMatchObject({ code: "HANDLER_TX_CLOSED" });
      // Publishing a follow-up event through it says the same, not "run BEGIN first" (the
      // chunk's connection is idle in the pool by now, outside any transaction).
      await expect(pub.publish(ctx.tx, "order.shipped", { orderId: "late", n: 1 })).rejects.toMatchObject({
        code: "HANDLER_TX_CLOSED",
      });
    }
  });

  it("a handler stuck in a statement that ignores cancel fails alone: connection terminated, its chunk-mates re-run at once", async () => {
    const { hangs, runs, pool } = await hangAmongGood("terminate", async (ctx) => {
      // Swallows the cancel and sleeps on: only terminating the backend ends it.
      await ctx.tx.query(
        "DO $$ BEGIN PERFORM pg_sleep(30); EXCEPTION WHEN query_canceled THEN PERFORM pg_sleep(30); END $$",
      );
    });
    for (const h of hangs)
      expect(h.last_error).toMatch(
        /stuck\.record.*timed out after 200 ms and did not stop; its connection was terminated/,
      );
    // The chunk-mates that ran before a hang lost their transaction and ran again; their writes committed once.
    expect(runs.good).toBeGreaterThan(57);
    expect(
      await countWhere(
        pool,
        "SELECT * FROM pg_stat_activity WHERE query LIKE 'DO $$ BEGIN PERFORM pg_sleep(30)%'",
      ),
    ).toBe(0);
  });

  it("in one chunk, writing and non-writing handlers mix: a failed run's writes roll back, the others' stay; a swallowed failed statement fails its run", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "mix");
    const c = consumers.create({
      generation: gen,
      concurrency: 1,
      batchSize: 50,
      ...fast,
      handlers: [
        {
          name: "mix.writer",
          topics: ["order.placed"],
          async handle(event, ctx) {
            await recordEffect(ctx.tx, "mix.writer", event);
          },
        },
        {
          name: "mix.swallow",
          topics: ["order.placed"],
          async handle(event, ctx) {
            const { n } = event.payload as { n: number };
            if (n % 5 === 0 && event.attempt === 1) await ctx.tx.query("SELECT 1/0").catch(() => {});
          },
        },
        {
          name: "mix.flaky",
          topics: ["order.placed"],
          async handle(event, ctx) {
            const { n } = event.payload as { n: number };
            if (event.attempt === 1 && n % 3 === 0) {
              await recordEffect(ctx.tx, "mix.flaky", event);
              throw new Error("failed after writing");
            }
            if (event.attempt === 1 && n % 3 === 1) throw new Error("failed before writing");
            await recordEffect(ctx.tx, "mix.flaky", event);
          },
        },
      ],
    });
    const failed: Array<ConsumerEvents["failed"]> = [];
    c.on("failed", (f) => failed.push(f));
    const pub = await publisherFor(pool, gen);
    await publishMany(pool, pub, 30, { prefix: "mix", batch: 30 });
    // Read before the consumer starts: a completion deletes the row.
    const { rows } = await pool.query<{ id: string; n: number }>(
      "SELECT id::text, (payload->>'n')::int AS n FROM cutover.outbox WHERE generation = $1 ORDER BY id",
      [gen],
    );
    const attemptOf = new Map<string, number>();
    c.on("handled", (h) => attemptOf.set(h.id, h.attempt));
    await c.start();
    await waitFor(async () => (await completedCount(pool, gen)) === 30);
    for (const r of rows) expect(attemptOf.get(r.id)).toBe(r.n % 3 !== 2 || r.n % 5 === 0 ? 2 : 1);
    // Each (handler, event) wrote once: failed runs' inserts rolled back (else the retry would hit the unique key).
    const { rows: effects } = await pool.query<{ handler: string; n: string }>(
      "SELECT handler, count(*)::text AS n FROM public.effects WHERE generation = $1 GROUP BY handler ORDER BY handler",
      [gen],
    );
    expect(effects).toEqual([
      { handler: "mix.flaky", n: "30" },
      { handler: "mix.writer", n: "30" },
    ]);
    const swallowed = failed.filter((f) => f.handler === "mix.swallow");
    expect(swallowed).toHaveLength(6);
    for (const f of swallowed) expect(f.error).toMatch(/returned but left its transaction failed/);
  });

  it("stop() past its timeout aborts running handlers and releases their rows to pending, attempt given back", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "release");
    let started = 0;
    const c = createConsumer({
      databaseUrl: db.current.url,
      generation: gen,
      concurrency: 2,
      batchSize: 3,
      ...fast,
      handlers: [
        {
          name: "release.slow",
          topics: ["order.placed"],
          async handle(_event, ctx) {
            started++;
            await new Promise<void>((resolve, reject) => {
              const t = setTimeout(resolve, 60_000);
              ctx.signal.addEventListener("abort", () => {
                clearTimeout(t);
                reject(ctx.signal.reason);
              });
            });
          },
        },
      ],
    });
    await c.start();
    await publishMany(pool, await publisherFor(pool, gen), 10, { prefix: "rel" });
    await waitFor(() => started === 2);
    expect(
      await countWhere(pool, "SELECT * FROM cutover.outbox WHERE generation = $1 AND status = 'in_flight'", [
        gen,
      ]),
    ).toBe(6);
    await c.stop({ timeoutMs: 200 });
    const { rows } = await pool.query(
      "SELECT status, attempts, claimed_by FROM cutover.outbox WHERE generation = $1 ORDER BY id",
      [gen],
    );
    expect(rows).toEqual(Array(10).fill({ status: "pending", attempts: 0, claimed_by: null }));
    const { rows: w } = await pool.query("SELECT status FROM cutover.workers WHERE id = $1", [c.workerId]);
    expect(w[0].status).toBe("exited");
  });
});
