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

describe("hostile handlers under steady publishing", () => {
  it("poison events, a handler that hangs forever and handlers throwing non-Error values go dead without blocking the rest", async () => {
    const rig = await Rig.create("handlers", server);
    try {
      const gen = await rig.allocate("v1");
      const tuning = { maxAttempts: 3, handlerTimeoutMs: 2000 };
      for (const w of ["a", "b"]) await rig.startWorker(`g${gen}-${w}`, gen, { tuning });
      await rig.startPublishers(scale.publishers, {
        generation: gen,
        topics: "chaos.order:20,chaos.poison:1,chaos.hang:1,chaos.throws:1",
      });
      await sleep(scale.phaseMs * 2);
      await rig.stopPublishers();
      const report = await rig.settleAndCheck();
      const { rows: errors } = await rig.db.pool.query<{
        topic: string;
        last_error: string | null;
        n: number;
      }>(
        `SELECT topic, last_error, count(*)::int AS n FROM cutover.outbox WHERE status = 'dead'
          GROUP BY topic, last_error ORDER BY topic, n DESC`,
      );
      const { rows: hostile } = await rig.db.pool.query<{ topic: string; status: string; n: number }>(
        `SELECT topic, status, count(*)::int AS n FROM cutover.outbox WHERE topic <> 'chaos.order'
          GROUP BY topic, status ORDER BY topic`,
      );
      rig.score("poison, hanging and non-Error handlers", report, {
        note: `dead: ${JSON.stringify(report.deadByTopic)}; every worker alive at the end`,
      });
      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      // Every hostile event ended dead, with an error that says what happened.
      for (const r of hostile) expect(r.status, `${r.topic}`).toBe("dead");
      for (const topic of ["chaos.poison", "chaos.hang", "chaos.throws"]) {
        expect(report.deadByTopic[topic] ?? 0, topic).toBeGreaterThan(0);
      }
      for (const e of errors) {
        expect(e.last_error, e.topic).toBeTruthy();
        if (e.topic === "chaos.hang") expect(e.last_error).toMatch(/timed out|terminated/);
      }
      const thrown = errors.filter((e) => e.topic === "chaos.throws").map((e) => e.last_error ?? "");
      expect(thrown.some((t) => /a string|undefined|null|42|object|Symbol/.test(t))).toBe(true);
      // ...and none of them blocked a normal event.
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
      for (const w of rig.workers.values()) expect(w.alive).toBe(true);
    } finally {
      await rig.close();
    }
  });
});
