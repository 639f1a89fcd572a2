/**
 * Publishers behind PgBouncer in transaction mode, for real (issue 15): the
 * docs say publishers may sit behind a transaction pooler while workers
 * connect directly (docs/operations.md, "Behind a connection pooler").
 * Several publisher processes share a server pool smaller than their number,
 * so their transactions are multiplexed; the workers LISTEN and consume on
 * direct connections; the history checker proves the invariants.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Server, startServer } from "./lib/cluster.js";
import { freshLatency } from "./lib/freeze.js";
import { findPgBouncer, type PgBouncer, startPgBouncer } from "./lib/pgbouncer.js";
import { Rig, sleep } from "./lib/rig.js";
import { scale } from "./lib/scale.js";

const found = findPgBouncer();
if ("missing" in found) process.stdout.write(`[chaos] pgbouncer scenario skipped: ${found.missing}\n`);

let server: Server;
beforeAll(async () => {
  if ("missing" in found) return;
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

describe.skipIf("missing" in found)(
  `publishers behind PgBouncer (transaction mode)${"missing" in found ? `: skipped, ${found.missing}` : ""}`,
  () => {
    it("several publishers through a 2-connection transaction pool, workers direct: nothing lost, nothing doubled", async () => {
      const rig = await Rig.create("pgbouncer", server);
      let bouncer: PgBouncer | undefined;
      try {
        bouncer = await startPgBouncer({
          port: server.port,
          user: "postgres",
          password: "postgres",
          poolSize: 2,
        });
        const dbName = new URL(rig.db.url).pathname.slice(1);
        const gen = await rig.db.allocate("v1");
        for (const n of ["a", "b"]) await rig.startWorker(`g${gen}-${n}`, gen);
        const publishers = scale.publishers + 2;
        const t0 = new Date();
        await rig.startPublishers(publishers, {
          generation: gen,
          databaseUrl: bouncer.url(rig.db.url),
          // PgBouncer < 1.21 cannot carry named prepared statements in transaction mode.
          prepared: false,
        });
        await sleep(scale.phaseMs * 2);
        const mid = await bouncer.stats(dbName);
        await rig.stopPublishers();
        const stoppedAt = new Date();
        const report = await rig.settleAndCheck();
        const stats = await bouncer.stats(dbName);
        const latency = await freshLatency(rig, t0, stoppedAt);
        rig.score("publishers behind PgBouncer (transaction mode)", report, {
          recoveryMs: await rig.recovery(stoppedAt),
          note: `${bouncer.version}, pool_mode ${stats.poolMode}, ${publishers} publisher processes over ${mid.serverConnections} server connections (pool size 2); ${stats.transactions} transactions through it; workers direct (LISTEN woke them: publish to done p50 ${latency.p50Ms} ms, max ${latency.maxMs} ms)`,
        });
        expect(stats.poolMode).toBe("transaction");
        expect(mid.serverConnections).toBeLessThanOrEqual(2);
        // Every committed publish went through PgBouncer (plus the rolled-back ones).
        expect(stats.transactions).toBeGreaterThanOrEqual(report.committed);
        expect(report.committed).toBeGreaterThan(0);
        expect(report.settled).toBe(true);
        expect(report.violations).toEqual([]);
        expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
        // NOTIFY sent through the pooler at COMMIT still reaches the direct LISTEN: no poll-bound waits.
        expect(latency.p50Ms).toBeLessThan(250);
      } finally {
        await rig.close();
        await bouncer?.stop();
      }
    });
  },
);
