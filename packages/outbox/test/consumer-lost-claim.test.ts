import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
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

// A claim can commit on the server while its answer is lost with the connection (the database
// restarts, a proxy drops the socket). The rows are then in flight, claimed by a live worker that
// does not know it holds them: no reaper takes them before their lease expires (60 s here).
describe("a claim whose answer was lost", () => {
  it("is given back as soon as the database answers again: handled long before the lease, attempt returned, once", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "lost-claim");
    const pub = await publisherFor(pool, gen);
    const c = consumers.create({
      generation: gen,
      leaseMs: 60_000,
      pollIntervalMs: 100,
      // Kept as `done` rows: the test reads each row's last_error after it was handled.
      completion: "keep",
      handlers: [recorder("lost.claim")],
    });
    await c.start();
    await publishMany(pool, pub, 3, { prefix: "warm" });
    await waitFor(async () => (await countWhere(pool, "SELECT 1 FROM effects")) === 3);

    // The server side of a lost answer: rows in flight under this worker's id, attempt counted
    // (written directly, so the running consumer cannot claim them first).
    const { rowCount } = await pool.query(
      `INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key, status, claimed_by, attempts, lease_expires_at)
       SELECT $1, 'order.placed', jsonb_build_object('orderId', 'lost-' || g, 'n', g), 'lost-' || g,
              'in_flight', $2, 1, now() + interval '60 seconds'
       FROM generate_series(1, 5) AS g`,
      [gen, c.workerId],
    );
    expect(rowCount).toBe(5);
    // The client side: its connections drop (the consumer sees a connection error).
    await pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [
      `cutover:${c.workerId}`.slice(0, 63),
    ]);

    const started = Date.now();
    await waitFor(async () => (await countWhere(pool, "SELECT 1 FROM effects")) === 8);
    expect(Date.now() - started).toBeLessThan(30_000); // far inside the 60 s lease
    await waitFor(
      async () =>
        (await countWhere(pool, "SELECT 1 FROM cutover.outbox WHERE generation = $1 AND status = 'done'", [
          gen,
        ])) === 8,
    );
    const { rows } = await pool.query<{ attempts: number; last_error: string | null }>(
      "SELECT attempts, last_error FROM cutover.outbox WHERE generation = $1 AND idempotency_key LIKE 'lost%'",
      [gen],
    );
    // The lost claim's attempt was given back: one attempt, the one that ran.
    expect(rows.map((r) => r.attempts)).toEqual([1, 1, 1, 1, 1]);
    for (const r of rows) expect(r.last_error).toMatch(/answer to its claim was lost/);
    const effects = await pool.query<{ key: string; n: number }>(
      "SELECT key, count(*)::int AS n FROM effects GROUP BY key HAVING count(*) > 1",
    );
    expect(effects.rows).toEqual([]);
  }, 60_000);
});
