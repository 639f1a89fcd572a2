import { allocateGeneration, createPublisher, defineEvents } from "@cutover/outbox";
import type pg from "pg";
import { z } from "zod";

export const events = defineEvents({
  "order.placed": z.object({ orderId: z.string() }),
  "order.cancelled": z.object({ orderId: z.string() }),
  "order.slow": z.object({ orderId: z.string() }),
});

export const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
export const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

export async function createEffectsTable(pool: pg.Pool): Promise<void> {
  await pool.query(
    "CREATE TABLE IF NOT EXISTS public.fixture_effects (event_id bigint PRIMARY KEY, topic text, generation int, worker text)",
  );
}

export async function newGeneration(pool: pg.Pool, version: string): Promise<number> {
  return (await allocateGeneration(pool, { version })).generation;
}

/** Publishes (and commits) `count` events of `topic` in generation `generation`; returns their ids. */
export async function publish(
  pool: pg.Pool,
  generation: number,
  topic: keyof typeof events.schemas,
  count: number,
  headers: Record<string, string> = {},
): Promise<string[]> {
  const pub = await createPublisher({ events, db: pool, generation });
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const res = await pub.publishBatch(
      client,
      Array.from({ length: count }, (_, i) => ({ topic, payload: { orderId: `o-${i}` }, headers })),
    );
    await client.query("COMMIT");
    return res.map((r) => r.id!);
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  } finally {
    client.release();
  }
}

export async function effectCount(pool: pg.Pool, generation?: number): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM public.fixture_effects WHERE $1::int IS NULL OR generation = $1",
    [generation ?? null],
  );
  return rows[0]!.n;
}
