import {
  allocateGeneration,
  type BatchItem,
  type Consumer,
  type ConsumerOptions,
  createConsumer,
  createPublisher,
  defineEvents,
  type EventSchemas,
  type HandlerDefinition,
  type Publisher,
} from "@cutover/outbox";
import type pg from "pg";
import { afterEach } from "vitest";
import { z } from "zod";
import type { TestDatabase } from "../../../../test/harness/db.js";
import { recordEffect } from "./effects.mjs";

export { recordEffect };

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

/**
 * Publishes the events `item(n)` makes for n = from .. from+count-1 (from
 * defaults to 0) in committed transactions of `batch` (default 500) each.
 */
export async function publishInBatches<S extends EventSchemas>(
  pool: pg.Pool,
  pub: Publisher<S>,
  range: { from?: number; count: number; batch?: number | undefined },
  item: (n: number) => BatchItem<S>,
): Promise<void> {
  const from = range.from ?? 0;
  const end = from + range.count;
  const batch = range.batch ?? 500;
  for (let start = from; start < end; start += batch) {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await pub.publishBatch(
        client,
        Array.from({ length: Math.min(batch, end - start) }, (_, j) => item(start + j)),
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

/** Publishes `count` order.placed events in committed batches of `batch`. */
export async function publishMany(
  pool: pg.Pool,
  pub: Publisher<Events>,
  count: number,
  opts: { batch?: number; prefix?: string; orderingKey?: (i: number) => string | undefined } = {},
): Promise<void> {
  await publishInBatches(pool, pub, { count, batch: opts.batch }, (i) => {
    const key = opts.orderingKey?.(i);
    return {
      topic: "order.placed" as const,
      payload: { orderId: `${opts.prefix ?? "o"}-${i}`, n: i },
      ...(key ? { orderingKey: key } : {}),
    };
  });
}

/**
 * The consumers a test file runs on its test database: `create` makes one
 * (createConsumer with the database's URL) and keeps it in `all`; after each
 * test all of them are stopped, 5 s timeout.
 */
export function useConsumers(db: { readonly current: TestDatabase }) {
  const all: Consumer[] = [];
  afterEach(async () => {
    await Promise.all(all.splice(0).map((c) => c.stop({ timeoutMs: 5000 })));
  });
  return {
    all,
    create(options: ConsumerOptions): Consumer {
      const c = createConsumer({ databaseUrl: db.current.url, ...options });
      all.push(c);
      return c;
    },
  };
}

/**
 * An order.placed handler that records each run in public.effects through
 * ctx.tx, with its worker and the event's idempotency key: a double effect
 * violates UNIQUE and fails loudly.
 */
export function recorder(name: string): HandlerDefinition {
  return {
    name,
    topics: ["order.placed"],
    async handle(event, ctx) {
      await recordEffect(ctx.tx, name, event, { worker: ctx.workerId, key: event.idempotencyKey });
    },
  };
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

/** Polls until `sql` returns `n` rows (countWhere); the test's timeout bounds it. */
export async function waitForCount(
  pool: pg.Pool,
  n: number,
  sql: string,
  params: unknown[] = [],
  intervalMs = 50,
): Promise<void> {
  await waitFor(async () => (await countWhere(pool, sql, params)) === n, intervalMs);
}

/** Backends opened by a consumer (pool and LISTEN), by application_name. */
export async function connectionsOf(pool: pg.Pool, workerId: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name IN ($1, $2)",
    [`cutover:${workerId}`.slice(0, 63), `cutover-listen:${workerId}`.slice(0, 63)],
  );
  return Number(rows[0]!.n);
}
