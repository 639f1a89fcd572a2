import { createPublisher, defineEvents } from "@cutover/outbox";
import type pg from "pg";
import { z } from "zod";
import { publishInBatches } from "../../../../packages/outbox/test/support/consumer.js";

// Allocating a generation and polling are the same as in the library's consumer tests.
export { newGeneration, waitFor } from "../../../../packages/outbox/test/support/consumer.js";

export const relayTestEvents = defineEvents({
  "order.placed": z.object({ n: z.number().int() }),
});

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
  await publishInBatches(pool, pub, opts, (n) => {
    const key = opts.orderingKey?.(n);
    return {
      topic: "order.placed" as const,
      payload: { n },
      idempotencyKey: `${opts.run}-${n}`,
      headers: { traceparent: `00-${"c".repeat(32)}-${"d".repeat(16)}-01` },
      ...(key === undefined ? {} : { orderingKey: key }),
    };
  });
}

/**
 * Events by state: each status of the rows in the outbox, and `completed`:
 * rows a completion deleted that an event_handled row names (gone alone
 * proves nothing: a lost row is gone too).
 */
export async function statusCounts(pool: pg.Pool, generation?: number): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM cutover.outbox WHERE $1::int IS NULL OR generation = $1 GROUP BY status
     UNION ALL
     SELECT 'completed', count(DISTINCT h.event_id) FROM cutover.event_handled h
      WHERE ($1::int IS NULL OR h.generation = $1)
        AND NOT EXISTS (SELECT 1 FROM cutover.outbox o WHERE o.id = h.event_id)
     HAVING count(*) > 0`,
    [generation ?? null],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
