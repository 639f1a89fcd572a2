/**
 * The max-rate scenario: unthrottled single-event and batch publishers on
 * two generations at once, while workers are SIGKILLed and restarted or
 * SIGSTOPped and resumed, alternately. Reports the sustained publish rate,
 * the handled rate, publish-to-done lag p50/p99 and each fault's recovery
 * (until the rows the victim held were done). CHAOS_SCALE=full runs it for
 * 2 minutes (RELIABILITY.md); CI runs 15 s.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Server, startServer } from "./lib/cluster.js";
import { coreCount, snapshot, usage } from "./lib/cpu.js";
import { doneAfter, FREEZE_TUNING, frozenPeerBoundMs, held } from "./lib/freeze.js";
import { Rig, sleep } from "./lib/rig.js";
import { scale } from "./lib/scale.js";

let server: Server;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

interface Fault {
  kind: "kill" | "freeze";
  worker: string;
  at: Date;
  ids: string[];
}

describe("load", () => {
  it(`${scale.loadWorkersPerGeneration} workers x 2 generations at the highest publish rate the machine sustains, workers killed and frozen`, async () => {
    const rig = await Rig.create("load", server);
    try {
      const gens = [await rig.allocate("v1"), await rig.allocate("v2")];
      const tuning = { ...FREEZE_TUNING, concurrency: 4, batchSize: 200 };
      const env = { HOLD_MS: "0" };
      const workers: Array<{ id: string; gen: number }> = [];
      for (const g of gens) {
        for (let i = 0; i < scale.loadWorkersPerGeneration; i++) {
          const id = `g${g}-w${i}`;
          await rig.startWorker(id, g, { tuning, env });
          workers.push({ id, gen: g });
        }
      }
      // Unthrottled (rate 0): each publisher commits as fast as its connection allows.
      for (const g of gens) {
        await rig.startPublishers(scale.loadPublishers / 2, { generation: g, rate: 0, rollbackRatio: 0.05 });
        await rig.startPublishers(scale.loadBatchPublishers / 2, {
          generation: g,
          rate: 0,
          rollbackRatio: 0.05,
          batch: scale.loadBatchSize,
          kind: "b",
        });
      }
      const t0 = Date.now();
      const t0Date = new Date(t0);
      const cpu0 = snapshot(server.port);
      const { boundMs } = frozenPeerBoundMs();
      const faults: Fault[] = [];
      let restarts = 0;
      const end = t0 + scale.loadMs;
      // At least one kill and one freeze, however short the run.
      const planned = Math.max(2, Math.floor(scale.loadMs / scale.loadFaultEveryMs) - 1);
      for (let n = 0; n < planned; n++) {
        await sleep(scale.loadFaultEveryMs);
        const slot = n % workers.length;
        const victim = workers[slot]!;
        const kind = n % 2 === 0 ? "kill" : "freeze";
        const { ids } = await held(rig, victim.id);
        const at = new Date();
        if (kind === "kill") {
          rig.worker(victim.id).signal("SIGKILL");
          await rig.worker(victim.id).exited;
          const next = { id: `${victim.id.split("-r")[0]}-r${++restarts}`, gen: victim.gen };
          await rig.startWorker(next.id, next.gen, { tuning, env });
          workers[slot] = next;
        } else {
          rig.worker(victim.id).signal("SIGSTOP");
          await sleep(boundMs);
          rig.worker(victim.id).signal("SIGCONT");
        }
        faults.push({ kind, worker: victim.id, at, ids });
      }
      await sleep(Math.max(0, end - Date.now()));
      const cpu = usage(cpu0, snapshot(server.port));
      await rig.stopPublishers();
      const publishSeconds = (Date.now() - t0) / 1000;
      const stoppedAt = new Date();
      const report = await rig.settleAndCheck();
      const handleSeconds = (Date.now() - t0) / 1000;
      const lag = (
        await rig.db.pool.query<{ p50: number; p99: number; max: number }>(
          `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::float8 AS p50,
             percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::float8 AS p99, max(ms)::float8 AS max
           FROM (SELECT extract(epoch FROM e.handled_at - b.created_at) * 1000 AS ms
                   FROM public.chaos_effects e JOIN public.orders b ON b.key = e.idempotency_key
                  WHERE b.created_at >= $1) x`,
          [t0Date],
        )
      ).rows[0]!;
      const recoveries: string[] = [];
      for (const f of faults) {
        const ms = f.ids.length > 0 ? await doneAfter(rig, f.ids, f.at) : 0;
        recoveries.push(
          `${f.kind} ${f.ids.length} rows ${ms === null ? "not done" : `${(ms / 1000).toFixed(1)} s`}`,
        );
      }
      const publishRate = Math.round(report.committed / publishSeconds);
      rig.score("2 generations at max rate, workers killed and frozen", report, {
        recoveryMs: await rig.recovery(stoppedAt),
        publishRate,
        handleRate: Math.round(report.handled / handleSeconds),
        note: `${scale.loadWorkersPerGeneration} workers per generation (concurrency 4), ${scale.loadPublishers} single-event + ${scale.loadBatchPublishers} batch (x${scale.loadBatchSize}) unthrottled publishers, ${Math.round(scale.loadMs / 1000)} s; lag publish->done p50 ${Math.round(lag.p50)} ms, p99 ${Math.round(lag.p99)} ms, max ${Math.round(lag.max)} ms; faults (rows the victim held done after): ${recoveries.join(", ")}; CPU while publishing, cores of ${coreCount}: ${Object.entries(
          cpu.cores,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(
            ", ",
          )} (machine ${Math.round(cpu.machineBusy * 100)} % busy); recovery column = backlog drained after publishing stopped`,
      });
      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
      expect(faults.length).toBeGreaterThan(0);
      // Both generations carried load: their events were handled (the
      // completion deleted the rows; the effects record each handling).
      const { rows } = await rig.db.pool.query<{ generation: number; n: number }>(
        `SELECT event_generation AS generation, count(*)::int AS n FROM public.chaos_effects
          GROUP BY event_generation ORDER BY event_generation`,
      );
      expect(rows.map((r) => r.generation)).toEqual(gens);
      for (const r of rows) expect(r.n).toBeGreaterThan(0);
    } finally {
      await rig.close();
    }
  });
});
