import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Server, startServer } from "./lib/cluster.js";
import { Rig, sleep } from "./lib/rig.js";
import { scale } from "./lib/scale.js";

let server: Server;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

describe("load", () => {
  it(`${scale.loadWorkersPerGeneration} workers x 2 generations at the highest publish rate the machine sustains`, async () => {
    const rig = await Rig.create("load", server);
    try {
      const gens = [await rig.allocate("v1"), await rig.allocate("v2")];
      const tuning = { concurrency: 2, batchSize: 50 };
      for (const g of gens) {
        for (let i = 0; i < scale.loadWorkersPerGeneration; i++) {
          await rig.startWorker(`g${g}-w${i}`, g, { tuning, env: { HOLD_MS: "0" } });
        }
      }
      const t0 = Date.now();
      // Unthrottled (rate 0): each publisher commits as fast as its connection allows.
      for (const g of gens) {
        await rig.startPublishers(scale.loadPublishers / 2, { generation: g, rate: 0, rollbackRatio: 0.05 });
      }
      await sleep(scale.loadMs);
      await rig.stopPublishers();
      const publishSeconds = (Date.now() - t0) / 1000;
      const stoppedAt = new Date();
      const report = await rig.settleAndCheck();
      const handleSeconds = (Date.now() - t0) / 1000;
      rig.score(`8 workers x 2 generations, max rate`, report, {
        recoveryMs: await rig.recovery(stoppedAt),
        publishRate: Math.round(report.committed / publishSeconds),
        handleRate: Math.round(report.handled / handleSeconds),
        note: `${scale.loadWorkersPerGeneration} workers per generation, ${scale.loadPublishers} unthrottled publishers, ${Math.round(scale.loadMs / 1000)} s; recovery = backlog drained after publishing stopped`,
      });
      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
      // Both generations carried load.
      const { rows } = await rig.db.pool.query<{ generation: number; n: number }>(
        "SELECT generation, count(*)::int AS n FROM cutover.outbox GROUP BY generation ORDER BY generation",
      );
      expect(rows.map((r) => r.generation)).toEqual(gens);
      for (const r of rows) expect(r.n).toBeGreaterThan(0);
    } finally {
      await rig.close();
    }
  });
});
