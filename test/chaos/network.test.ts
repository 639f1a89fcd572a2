import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Server, startServer } from "./lib/cluster.js";
import { Rig, sleep, until } from "./lib/rig.js";
import { scale } from "./lib/scale.js";

let server: Server;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

describe("network faults between workers and Postgres", () => {
  it("LISTEN connection cut, repeatedly: the poll backstop and the reconnect lose nothing", async () => {
    const rig = await Rig.create("listen", server);
    try {
      const gen = await rig.db.allocate("v1");
      // A slow backstop poll, so wake-ups really come from LISTEN between cuts.
      const tuning = { pollMs: 2000 };
      for (const n of ["a", "b"]) await rig.startWorker(`g${gen}-${n}`, gen, { route: "proxy", tuning });
      await rig.startPublishers(scale.publishers, { generation: gen });
      await until(() => rig.proxy.connections("cutover-listen:") === 2, 10_000, "2 LISTEN connections");
      await sleep(scale.phaseMs);
      let cuts = 0;
      let healedAt = new Date();
      for (let i = 0; i < 3; i++) {
        cuts += rig.proxy.cut({ appPrefix: "cutover-listen:" });
        // Only the LISTEN connections were cut: the pools' connections are intact.
        expect(rig.proxy.connections("cutover:")).toBeGreaterThan(0);
        await until(() => rig.proxy.connections("cutover-listen:") === 2, 30_000, "LISTEN to reconnect");
        healedAt = new Date();
        await sleep(scale.phaseMs / 2);
      }
      await rig.stopPublishers();
      const report = await rig.settleAndCheck();
      rig.score("LISTEN connection cut", report, {
        recoveryMs: await rig.recovery(healedAt),
        note: `${cuts} LISTEN connections cut (3 rounds), each re-established`,
      });
      expect(cuts).toBe(6);
      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
    } finally {
      await rig.close();
    }
  });

  it("all connections cut for 10 s (workers and publishers): unknown commits resolved, nothing lost", async () => {
    const rig = await Rig.create("cut", server);
    try {
      const gen = await rig.db.allocate("v1");
      for (const n of ["a", "b"]) await rig.startWorker(`g${gen}-${n}`, gen, { route: "proxy" });
      await rig.startPublishers(scale.publishers, { generation: gen, route: "proxy" });
      await sleep(scale.phaseMs);
      const cut = rig.proxy.cut({ refuseMs: 10_000 });
      await sleep(10_000);
      rig.proxy.resume();
      const healedAt = new Date();
      await sleep(scale.phaseMs);
      await rig.stopPublishers();
      const report = await rig.settleAndCheck();
      rig.score("all connections cut for 10 s", report, {
        recoveryMs: await rig.recovery(healedAt),
        note: `${cut} connections reset, new ones refused for 10 s`,
      });
      expect(cut).toBeGreaterThan(4);
      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
    } finally {
      await rig.close();
    }
  });
});
