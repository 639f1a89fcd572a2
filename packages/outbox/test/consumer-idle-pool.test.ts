import { createConsumer } from "@cutover/outbox";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { completedCount } from "./support/completion.js";
import {
  countWhere,
  createEffects,
  newGeneration,
  publisherFor,
  publishMany,
  recorder,
  waitFor,
} from "./support/consumer.js";

const db = useTestDatabase();

/** The consumer's pool backends (not its LISTEN one), by application_name. */
async function poolConnectionsOf(pool: pg.Pool, workerId: string): Promise<number> {
  return countWhere(pool, "SELECT 1 FROM pg_stat_activity WHERE application_name = $1", [
    `cutover:${workerId}`.slice(0, 63),
  ]);
}

describe("an idle consumer keeps the connections its next claim needs", () => {
  it("after more than pg-pool's 10 s idle timeout its own pool still holds two connections, and the next event is handled", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "idle");
    const c = createConsumer({
      databaseUrl: db.current.url,
      generation: gen,
      handlers: [recorder("idle.record")],
      // Quiet background loops: only the heartbeat (every 5 s) keeps using
      // a pool connection, as in a quiet deployment between its 1 s polls.
      pollIntervalMs: 600_000,
      reaperIntervalMs: 600_000,
    });
    await c.start();
    try {
      const pub = await publisherFor(pool, gen);
      await publishMany(pool, pub, 1, { prefix: "before" });
      const done = () => completedCount(pool, gen);
      await waitFor(async () => (await done()) === 1);
      // The notified claim used two pool connections (the claim's and the
      // pre-opened chunk's). pg-pool closes a connection idle for 10 s; the
      // heartbeat keeps using one. Without `min: 2` the count drops to 1
      // about 10 s after the event and stays there.
      const counts: number[] = [];
      const until = Date.now() + 13_000;
      while (Date.now() < until) {
        counts.push(await poolConnectionsOf(pool, c.workerId));
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(Math.min(...counts)).toBeGreaterThanOrEqual(2);
      await publishMany(pool, pub, 1, { prefix: "after" });
      await waitFor(async () => (await done()) === 2);
    } finally {
      await c.stop({ timeoutMs: 5000 });
    }
  });
});
