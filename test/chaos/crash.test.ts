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

async function heldBy(rig: Rig, workerId: string): Promise<number> {
  const { rows } = await rig.db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM cutover.outbox WHERE status = 'in_flight' AND claimed_by = $1",
    [workerId],
  );
  return rows[0]!.n;
}

describe("worker crashes under steady publishing", () => {
  it("worker SIGKILL mid-batch, repeatedly: nothing lost, nothing doubled", async () => {
    const rig = await Rig.create("kill", server);
    try {
      const gen = await rig.db.allocate("v1");
      const ids = ["a", "b", "c"].map((n) => `g${gen}-${n}`);
      for (const id of ids) await rig.startWorker(id, gen);
      await rig.startPublishers(scale.publishers, { generation: gen });
      await sleep(scale.phaseMs);
      let heldAtKill = 0;
      let healedAt = new Date();
      for (let i = 0; i < scale.kills; i++) {
        const victim = ids[i % ids.length]!;
        // Kill only once it holds rows: mid-batch, with handlers running.
        await until(async () => (await heldBy(rig, victim)) > 0, 20_000, `${victim} to hold rows`);
        rig.worker(victim).signal("SIGKILL");
        await rig.worker(victim).exited;
        heldAtKill += await heldBy(rig, victim);
        const next = `${victim.split("-r")[0]}-r${i + 1}`;
        ids[i % ids.length] = next;
        await rig.startWorker(next, gen);
        healedAt = new Date();
        await sleep(scale.phaseMs / 2);
      }
      await sleep(scale.phaseMs);
      await rig.stopPublishers();
      const report = await rig.settleAndCheck();
      rig.score("worker SIGKILL mid-batch, repeatedly", report, {
        recoveryMs: await rig.recovery(healedAt),
        note: `${scale.kills} SIGKILLs; ${heldAtKill} rows held by the corpses at death`,
      });
      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      expect(heldAtKill).toBeGreaterThan(0);
      expect(report.committed).toBeGreaterThan(0);
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
    } finally {
      await rig.close();
    }
  });

  it("SIGSTOP past the lease, then SIGCONT: the woken zombie is fenced off", async () => {
    const rig = await Rig.create("zombie", server);
    try {
      const gen = await rig.db.allocate("v1");
      const zombie = `g${gen}-zombie`;
      await rig.startWorker(zombie, gen, { env: { HOLD_MS: "40" } });
      await rig.startWorker(`g${gen}-live`, gen);
      await rig.startPublishers(scale.publishers, { generation: gen });
      await sleep(scale.phaseMs);
      await until(async () => (await heldBy(rig, zombie)) > 0, 20_000, "the zombie to hold rows");
      rig.worker(zombie).signal("SIGSTOP");
      const frozen = await heldBy(rig, zombie);
      // Past its lease and heartbeat the live worker's reaper takes its rows
      // back: at once those no open transaction of the zombie holds, and
      // those of the chunk it froze in once the server ended that
      // transaction (idle_in_transaction_session_timeout, docs/guarantees.md).
      await until(async () => (await heldBy(rig, zombie)) === 0, 30_000, "the zombie's rows to be reaped");
      const stolen = (
        await rig.db.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM public.chaos_transitions WHERE reaped AND old_owner = $1",
          [zombie],
        )
      ).rows[0]!.n;
      await sleep(1000);
      rig.worker(zombie).signal("SIGCONT");
      const healedAt = new Date();
      await sleep(scale.phaseMs);
      await rig.stopPublishers();
      const report = await rig.settleAndCheck();
      rig.score("SIGSTOP past the lease (zombie)", report, {
        recoveryMs: await rig.recovery(healedAt),
        note: `zombie held ${frozen} rows when stopped; ${stolen} reaped from it while frozen`,
      });
      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      expect(stolen).toBeGreaterThan(0);
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
    } finally {
      await rig.close();
    }
  });
});
