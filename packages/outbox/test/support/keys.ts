// What the eager-start tests share: events published under a chosen
// idempotency key, a competing transaction that holds a (handler, key) row
// open, and a wait for a consumer's event_handled insert to block on it.
import type pg from "pg";
import { afterEach } from "vitest";
import { countWhere, publisherFor, waitFor } from "./consumer.js";

/** Publishes one event with `key` as its idempotency key (a fresh key: throws on a duplicate); returns its id. */
export async function publishKeyed(
  pool: pg.Pool,
  generation: number,
  key: string,
  topic: "order.placed" | "order.shipped" = "order.placed",
): Promise<string> {
  const pub = await publisherFor(pool, generation);
  const c = await pool.connect();
  try {
    await c.query("BEGIN");
    const r = await pub.publish(c, topic, { orderId: key, n: 1 }, { idempotencyKey: key });
    await c.query("COMMIT");
    if (r.id === undefined) throw new Error(`key ${key} was published before`);
    return r.id;
  } finally {
    c.release();
  }
}

/**
 * `hold(pool, handler, key, generation)`: another transaction that has
 * inserted (handler, key) into event_handled and not finished, which is what
 * a concurrent run of that handler looks like. Rolled back after each test
 * unless the test committed or rolled it back itself.
 */
export function useHeldKeys() {
  const held: pg.PoolClient[] = [];
  afterEach(async () => {
    for (const c of held.splice(0)) {
      await c.query("ROLLBACK").catch(() => {});
      c.release();
    }
  });
  return async function hold(pool: pg.Pool, handler: string, key: string, generation: number) {
    const c = await pool.connect();
    held.push(c);
    await c.query("BEGIN");
    await c.query(
      "INSERT INTO cutover.event_handled (handler_name, idempotency_key, event_id, generation) VALUES ($1, $2, 0, $3)",
      [handler, key, generation],
    );
    return c;
  };
}

/** Until some consumer's event_handled insert is waiting for a row lock. */
export function keyInsertBlocked(pool: pg.Pool): Promise<void> {
  return waitFor(
    async () =>
      (await countWhere(
        pool,
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO \"cutover\".event_handled%'",
      )) > 0,
  );
}
