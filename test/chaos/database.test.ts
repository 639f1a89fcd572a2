import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retrying, type Server, startServer } from "./lib/cluster.js";
import { Rig, sleep } from "./lib/rig.js";
import { scale } from "./lib/scale.js";

let server: Server;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

const LEASE_MS = 3000;

describe("database faults", () => {
  it("database stalled past the lease (proxy holds every packet): stalled workers are fenced on return", async () => {
    const rig = await Rig.create("stall", server);
    try {
      const gen = await rig.db.allocate("v1");
      const opts = { tuning: { leaseMs: LEASE_MS }, env: { HOLD_MS: "20" } };
      for (const n of ["a", "b"]) await rig.startWorker(`g${gen}-${n}`, gen, { route: "proxy", ...opts });
      // One worker outside the stall: its reaper takes the stalled workers' rows back.
      await rig.startWorker(`g${gen}-direct`, gen, opts);
      await rig.startPublishers(scale.publishers, { generation: gen });
      await sleep(scale.phaseMs);
      rig.proxy.stall();
      await sleep(LEASE_MS * 2 + 1000);
      rig.proxy.resume();
      const healedAt = new Date();
      await sleep(scale.phaseMs);
      await rig.stopPublishers();
      const report = await rig.settleAndCheck();
      const reaped = (
        await rig.db.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM public.chaos_transitions WHERE reaped",
        )
      ).rows[0]!.n;
      rig.score("database stalled past the lease", report, {
        recoveryMs: await rig.recovery(healedAt),
        note: `stalled ${((LEASE_MS * 2 + 1000) / 1000).toFixed(0)} s with a ${LEASE_MS / 1000} s lease; ${reaped} rows reaped from stalled workers`,
      });
      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
    } finally {
      await rig.close();
    }
  });

  it("database restarted under load: workers reconnect, unknown commits resolved, nothing lost", async () => {
    const rig = await Rig.create("restart", server);
    try {
      const gen = await rig.db.allocate("v1");
      for (const n of ["a", "b"]) await rig.startWorker(`g${gen}-${n}`, gen);
      await rig.startPublishers(scale.publishers, { generation: gen });
      await sleep(scale.phaseMs);
      const t0 = Date.now();
      await server.restart();
      const healedAt = new Date();
      const downMs = Date.now() - t0;
      await retrying(() => rig.db.pool.query("SELECT 1"));
      await sleep(scale.phaseMs);
      await rig.stopPublishers();
      const report = await rig.settleAndCheck();
      rig.score("database restarted", report, {
        recoveryMs: await rig.recovery(healedAt),
        note: `server down ${(downMs / 1000).toFixed(1)} s (stop + start)`,
      });
      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
      for (const w of rig.workers.values()) expect(w.alive).toBe(true);
    } finally {
      await rig.close();
    }
  });
});
