import { allocateGeneration, createPublisher, defineEvents } from "@cutover/outbox";
import type pg from "pg";
import { z } from "zod";

export const relayTestEvents = defineEvents({
  "order.placed": z.object({ n: z.number().int() }),
});

export async function newGeneration(pool: pg.Pool, version: string): Promise<number> {
  return (await allocateGeneration(pool, { version })).generation;
}

/**
 * Publishes events n = from .. from+count-1 in committed batches, idempotency
 * key `${run}-${n}`, ordering key from `orderingKey(n)` (none when undefined).
 */
export async function publishRange(
  pool: pg.Pool,
  generation: number,
  opts: {
    run: string;
    from: number;
    count: number;
    batch?: number;
    orderingKey?: (n: number) => string | undefined;
  },
): Promise<void> {
  const pub = await createPublisher({ events: relayTestEvents, db: pool, generation });
  const batch = opts.batch ?? 500;
  for (let start = opts.from; start < opts.from + opts.count; start += batch) {
    const size = Math.min(batch, opts.from + opts.count - start);
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await pub.publishBatch(
        client,
        Array.from({ length: size }, (_, j) => {
          const n = start + j;
          const key = opts.orderingKey?.(n);
          return {
            topic: "order.placed" as const,
            payload: { n },
            idempotencyKey: `${opts.run}-${n}`,
            headers: { traceparent: `00-${"c".repeat(32)}-${"d".repeat(16)}-01` },
            ...(key === undefined ? {} : { orderingKey: key }),
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

/** Polls until `check` holds; the test timeout bounds it (no timing assertion). */
export async function waitFor(check: () => Promise<boolean> | boolean, intervalMs = 50): Promise<void> {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function statusCounts(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: string }>(
    "SELECT status, count(*) AS n FROM cutover.outbox GROUP BY status",
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
