import { type Consumer, defineHandler } from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { SAVEPOINT_BUDGET } from "../src/consumer/chunk/chunk.js";
import { completedCount } from "./support/completion.js";
import {
  events,
  newGeneration,
  publisherFor,
  publishMany,
  useConsumers,
  waitFor,
  waitForCount,
} from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

/**
 * A side-effect table that records the chunk transaction (txid_current()) of
 * each effect, with no unique constraint, so a double effect shows.
 */
async function createTxEffects(): Promise<void> {
  await db.current.pool.query(
    "CREATE TABLE IF NOT EXISTS public.tx_effects (event_id bigint NOT NULL, n int NOT NULL, txid bigint NOT NULL)",
  );
  await db.current.pool.query("TRUNCATE public.tx_effects");
}

async function effectsPerTransaction(): Promise<{ maxPerTx: number; total: number; distinct: number }> {
  const { rows } = await db.current.pool.query<{ max: number; total: number; distinct: number }>(
    `SELECT coalesce(max(c), 0)::int AS max, coalesce(sum(c), 0)::int AS total,
            (SELECT count(DISTINCT event_id) FROM public.tx_effects)::int AS distinct
     FROM (SELECT txid, count(*) AS c FROM public.tx_effects GROUP BY txid) t`,
  );
  return { maxPerTx: rows[0]!.max, total: rows[0]!.total, distinct: rows[0]!.distinct };
}

/** Publishes `count` events in committed batches of `batch`, then starts `consumer` and waits until none is open. */
async function publishThenConsume(consumer: Consumer, generation: number, count: number, batch: number) {
  const pool = db.current.pool;
  await publishMany(pool, await publisherFor(pool, generation), count, { batch });
  await consumer.start();
  await waitForCount(pool, 0, "SELECT 1 FROM cutover.outbox WHERE generation = $1 AND status <> 'done'", [
    generation,
  ]);
}

/** A handler that writes its effect through ctx.tx (a savepoint) for events numbered fromN and up; the rest only read. */
function txWriter(name: string, fromN = 0) {
  return defineHandler(events, {
    name,
    topics: ["order.placed"],
    handle: async (e, ctx) => {
      if (e.payload.n < fromN) return;
      await ctx.tx.query(
        "INSERT INTO public.tx_effects (event_id, n, txid) VALUES ($1, $2, txid_current())",
        [e.id, e.payload.n],
      );
    },
  });
}

describe("consumer: chunk sizing", () => {
  it("handlers that write through ctx.tx run fewer than 64 per transaction (subtransaction cache), each once", async () => {
    await createTxEffects();
    const pool = db.current.pool;
    const generation = await newGeneration(pool);
    const consumer = consumers.create({
      generation,
      batchSize: 1000,
      concurrency: 2,
      handlers: [txWriter("chunks.writer")],
    });
    await publishThenConsume(consumer, generation, 1500, 500);
    const stats = await effectsPerTransaction();
    expect(stats).toMatchObject({ total: 1500, distinct: 1500 });
    expect(stats.maxPerTx).toBeLessThanOrEqual(SAVEPOINT_BUDGET);
  });

  it("quick handlers that never write get chunks far larger than the savepoint budget", async () => {
    const pool = db.current.pool;
    const generation = await newGeneration(pool);
    let handled = 0;
    const consumer = consumers.create({
      generation,
      concurrency: 1,
      handlers: [
        defineHandler(events, {
          name: "chunks.reader",
          topics: ["order.placed"],
          handle: async () => {
            handled++;
          },
        }),
      ],
    });
    const claims: number[] = [];
    consumer.on("claimed", (c) => claims.push(c.count));
    const attempts: number[] = [];
    consumer.on("handled", (h) => attempts.push(h.attempt));
    await publishThenConsume(consumer, generation, 4000, 1000);
    expect(handled).toBe(4000);
    // One chunk per claim (concurrency 1): the first assume writing handlers,
    // later ones grow to batchSize once no run has written.
    expect(claims[0]).toBeLessThanOrEqual(SAVEPOINT_BUDGET);
    expect(Math.max(...claims)).toBeGreaterThan(4 * SAVEPOINT_BUDGET);
  });

  it("a chunk sized for non-writing runs defers its rest once its handlers start writing: none lost, none twice", async () => {
    await createTxEffects();
    const pool = db.current.pool;
    const generation = await newGeneration(pool);
    const consumer = consumers.create({
      generation,
      concurrency: 1,
      // Events 0-2999 only read; from 3000 on every run writes.
      handlers: [txWriter("chunks.late-writer", 3000)],
    });
    const claims: number[] = [];
    consumer.on("claimed", (c) => claims.push(c.count));
    const attempts: number[] = [];
    consumer.on("handled", (h) => attempts.push(h.attempt));
    await publishThenConsume(consumer, generation, 4000, 1000);
    const stats = await effectsPerTransaction();
    expect(stats).toMatchObject({ total: 1000, distinct: 1000 });
    expect(stats.maxPerTx).toBeLessThanOrEqual(SAVEPOINT_BUDGET);
    // The writing events arrived in chunks sized for readers: the budget, not
    // the sizing, kept those transactions small.
    expect(Math.max(...claims)).toBeGreaterThan(4 * SAVEPOINT_BUDGET);
    expect(await completedCount(pool, generation)).toBe(4000);
    // Deferred events keep their one claim: no extra attempt is counted.
    expect({ n: attempts.length, attempts: Math.max(...attempts) }).toEqual({ n: 4000, attempts: 1 });
  });

  it("a notification that finds nothing to claim leaves no transaction open (the pre-opened BEGIN is rolled back)", async () => {
    const pool = db.current.pool;
    const generation = await newGeneration(pool);
    const seen = new Map<string, number>();
    const ids: string[] = [];
    for (const name of ["chunks.racer-a", "chunks.racer-b"]) {
      const c = consumers.create({
        generation,
        handlers: [
          defineHandler(events, {
            name: "chunks.racer",
            topics: ["order.placed"],
            handle: async (e) => {
              seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
            },
          }),
        ],
        workerId: name,
      });
      ids.push(c.workerId);
      await c.start();
    }
    const pub = await publisherFor(pool, generation);
    // One event per transaction: both consumers are notified, one claims it.
    for (let i = 0; i < 40; i++) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await pub.publish(client, "order.placed", { orderId: `r-${i}`, n: i });
        await client.query("COMMIT");
      } finally {
        client.release();
      }
      await waitFor(() => seen.size === i + 1, 5);
    }
    const idleInTx = async () => {
      const { rows } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ANY($1) AND state LIKE 'idle in transaction%'",
        [ids.map((id) => `cutover:${id}`)],
      );
      return rows[0]!.n;
    };
    await waitFor(async () => (await idleInTx()) === 0);
    expect(seen.size).toBe(40);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });
});
