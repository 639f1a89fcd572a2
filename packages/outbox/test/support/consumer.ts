import { allocateGeneration, createPublisher, defineEvents, type Publisher } from "@cutover/outbox";
import type pg from "pg";
import { z } from "zod";

export const events = defineEvents({
  "order.placed": z.object({ orderId: z.string(), n: z.number().int() }),
  "order.shipped": z.object({ orderId: z.string(), n: z.number().int() }),
  "price.changed": z.object({ sku: z.string().transform((s) => s.toUpperCase()), cents: z.number().int() }),
});

export type Events = typeof events.schemas;

/** A side-effect table handlers write through ctx.tx; UNIQUE catches a double effect. */
export async function createEffects(pool: pg.Pool, table = "effects"): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS public.${table} (
      handler text NOT NULL, event_id bigint NOT NULL, generation int NOT NULL, seq bigserial,
      worker text, key text, UNIQUE (handler, event_id))`,
  );
}

export async function newGeneration(pool: pg.Pool, version = "v"): Promise<number> {
  return (await allocateGeneration(pool, { version })).generation;
}

export async function publisherFor(pool: pg.Pool, generation: number): Promise<Publisher<Events>> {
  return createPublisher({ events, db: pool, generation });
}

/** Publishes `count` order.placed events in committed batches of `batch`. */
export async function publishMany(
  pool: pg.Pool,
  pub: Publisher<Events>,
  count: number,
  opts: { batch?: number; prefix?: string; orderingKey?: (i: number) => string | undefined } = {},
): Promise<void> {
  const batch = opts.batch ?? 500;
  for (let start = 0; start < count; start += batch) {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await pub.publishBatch(
        client,
        Array.from({ length: Math.min(batch, count - start) }, (_, j) => {
          const i = start + j;
          const key = opts.orderingKey?.(i);
          return {
            topic: "order.placed" as const,
            payload: { orderId: `${opts.prefix ?? "o"}-${i}`, n: i },
            ...(key ? { orderingKey: key } : {}),
          };
        }),
      );
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK");
      throw err;
    } finally {
      client.release();
    }
  }
}

/** Polls `check` until it returns true (no timing assertion: the test's timeout bounds it). */
export async function waitFor(check: () => Promise<boolean> | boolean, intervalMs = 50): Promise<void> {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function countWhere(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM (${sql}) x`, params);
  return Number(rows[0]!.n);
}

/** Backends opened by a consumer (pool and LISTEN), by application_name. */
export async function connectionsOf(pool: pg.Pool, workerId: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name IN ($1, $2)",
    [`cutover:${workerId}`.slice(0, 63), `cutover-listen:${workerId}`.slice(0, 63)],
  );
  return Number(rows[0]!.n);
}
