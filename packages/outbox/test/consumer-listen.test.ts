import {
  allocateGeneration,
  type ConsumerEvents,
  type ConsumerState,
  createConsumer,
  createPublisher,
  migrate,
} from "@cutover/outbox";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { startEmbedded } from "../../../test/harness/postgres-server.js";
import { completedCount } from "./support/completion.js";
import { countWhere, events, newGeneration, publisherFor, publishMany, waitFor } from "./support/consumer.js";

const db = useTestDatabase();

describe("consumer wake-up", () => {
  it("survives its LISTEN backend being killed while events keep coming: reconnecting, back, all handled", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "listen");
    const seen = new Set<string>();
    const c = createConsumer({
      databaseUrl: db.current.url,
      generation: gen,
      // The backstop poll is too slow to matter: wake-ups come from LISTEN and the catch-up poll.
      pollIntervalMs: 600_000,
      handlers: [
        { name: "listen.count", topics: ["order.placed"], handle: async (e) => void seen.add(e.id) },
      ],
    });
    const states: ConsumerState[] = [];
    const reconnects: Array<ConsumerEvents["reconnecting"]> = [];
    c.on("state", (s) => states.push(s.to));
    c.on("reconnecting", (r) => reconnects.push(r));
    await c.start();
    try {
      const pub = await publisherFor(pool, gen);
      for (let round = 0; round < 10; round++) {
        await publishMany(pool, pub, 20, { prefix: `r${round}` });
        if (round === 3 || round === 7) {
          // The LISTEN connection killed at round 3 reconnects after a
          // backoff (100-200 ms) that four rounds of publishing can outrun:
          // kill only once it is back, or there is no backend to kill (the
          // flake: `expected [] to deeply equal [ { ok: true } ]`).
          await waitFor(
            async () =>
              c.health().listen.connected &&
              (await countWhere(pool, "SELECT 1 FROM pg_stat_activity WHERE application_name = $1", [
                `cutover-listen:${c.workerId}`,
              ])) === 1,
          );
          const { rows } = await pool.query<{ ok: boolean }>(
            "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1",
            [`cutover-listen:${c.workerId}`],
          );
          expect(rows).toEqual([{ ok: true }]);
        }
      }
      await waitFor(() => seen.size === 200);
      expect(reconnects.filter((r) => r.connection === "listen").length).toBeGreaterThanOrEqual(1);
      expect(states).toContain("reconnecting");
      await waitFor(() => c.health().listen.connected);
      expect(c.health().state).toBe("running");
      expect(c.metrics().reconnects).toBeGreaterThanOrEqual(1);
      // A notification still wakes it after the reconnects.
      await publishMany(pool, pub, 1, { prefix: "after" });
      await waitFor(() => seen.size === 201);
    } finally {
      await c.stop();
    }
  });

  it("keeps handling through a database outage longer than 3 s (pg-listen's default give-up)", async () => {
    const server = await startEmbedded();
    const url = `${server.adminUrl.replace(/\/postgres$/, "")}/postgres`;
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    pool.on("error", () => {});
    const c = createConsumer({
      databaseUrl: url,
      generation: 1,
      pollIntervalMs: 250,
      heartbeatIntervalMs: 200,
      handlers: [
        { name: "outage.count", topics: ["order.placed"], handle: async (e) => void seen.add(e.id) },
      ],
    });
    const seen = new Set<string>();
    const reconnected: string[] = [];
    c.on("reconnected", (r) => reconnected.push(r.connection));
    try {
      await migrate({ databaseUrl: url });
      const { generation } = await allocateGeneration(pool, { version: "outage" });
      expect(generation).toBe(1);
      const pub = await createPublisher({ events, db: pool, generation });
      await c.start();
      await publishMany(pool, pub, 50, { prefix: "before" });
      await waitFor(() => seen.size === 50);

      await server.pause();
      await new Promise((r) => setTimeout(r, 4500));
      expect(c.health().listen.connected).toBe(false);
      await server.restart();

      await publishMany(pool, pub, 50, { prefix: "after" });
      await waitFor(() => seen.size === 100);
      await waitFor(() => c.health().listen.connected && c.health().state === "running");
      expect(reconnected).toContain("listen");
      // The workers row follows the consumer's state at the next heartbeat (200 ms here).
      await waitFor(
        async () =>
          (await pool.query("SELECT status FROM cutover.workers WHERE id = $1", [c.workerId])).rows[0]
            ?.status === "running",
      );
      // A handler has run (seen) a moment before its row is completed: allow for that moment,
      // but not for a row left in flight until its lease (60 s) expires.
      const deadline = Date.now() + 10_000;
      let open = await countWhere(pool, "SELECT * FROM cutover.outbox WHERE status <> 'done'");
      while (open > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        open = await countWhere(pool, "SELECT * FROM cutover.outbox WHERE status <> 'done'");
      }
      const { rows: left } = await pool.query(
        "SELECT status, count(*)::int AS n FROM cutover.outbox WHERE status <> 'done' GROUP BY status",
      );
      expect(left, "rows not done 10 s after every handler ran").toEqual([]);
      // Gone because completed: each deleted row has its event_handled row.
      expect(await completedCount(pool, generation)).toBe(100);
    } finally {
      await c.stop();
      await pool.end();
      await server.stop();
    }
  }, 120_000);
});
