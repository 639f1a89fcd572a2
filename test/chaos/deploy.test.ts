import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Server, startServer } from "./lib/cluster.js";
import { workerKind } from "./lib/procs.js";
import { Rig, sleep, until } from "./lib/rig.js";
import { scale } from "./lib/scale.js";

let server: Server;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

const LEASE_MS = 3000;
const tuning = { leaseMs: LEASE_MS, staleMs: 2000 };

async function openRows(rig: Rig, generation: number): Promise<string> {
  const { rows } = await rig.db.pool.query(
    `SELECT id, status, claimed_by, attempts FROM cutover.outbox
      WHERE generation = $1 AND status IN ('pending', 'in_flight') ORDER BY id`,
    [generation],
  );
  return JSON.stringify(rows);
}

async function count(rig: Rig, sql: string, params: unknown[]): Promise<number> {
  return (await rig.db.pool.query<{ n: number }>(sql, params)).rows[0]!.n;
}

/** The retire step: `outbox-worker drain` for a generation; exits 0 once nothing of it is pending or in flight. */
async function drain(
  rig: Rig,
  id: string,
  generation: number,
  env: Record<string, string> = {},
): Promise<void> {
  const w = await rig.startWorker(id, generation, { drain: true, wait: false, tuning, env });
  const { code } = await w.exited;
  expect(code, w.output().slice(-2000)).toBe(0);
}

describe("generation cutover under steady publishing", () => {
  it("rolling deploy N -> N+1: the old generation's orphans are never touched by N+1, then drained and retired", async () => {
    const rig = await Rig.create("deploy", server);
    try {
      const n = await rig.allocate("v1");
      for (const w of ["a", "b"]) await rig.startWorker(`g${n}-${w}`, n, { tuning });
      await rig.startPublishers(scale.publishers, { generation: n });
      await sleep(scale.phaseMs);

      const next = await rig.allocate("v2");
      for (const w of ["a", "b"]) await rig.startWorker(`g${next}-${w}`, next, { tuning });
      // The old deployment dies before it is drained: SIGKILL both, mid-batch.
      for (const w of ["a", "b"]) {
        const id = `g${n}-${w}`;
        await until(
          async () =>
            (await count(
              rig,
              "SELECT count(*)::int AS n FROM cutover.outbox WHERE status = 'in_flight' AND claimed_by = $1",
              [id],
            )) > 0,
          20_000,
          `${id} to hold rows`,
        );
        rig.worker(id).signal("SIGKILL");
        await rig.worker(id).exited;
      }
      // Publishers switch to N+1.
      await rig.startPublishers(scale.publishers, { generation: next });
      await rig.stopPublishers(n);
      const orphaned = await openRows(rig, n);
      // Well past the lease and the heartbeat: N+1 is running its reaper all along.
      await sleep(LEASE_MS * 2 + 2000);
      expect(await openRows(rig, n)).toBe(orphaned);
      const heldByCorpses = (JSON.parse(orphaned) as Array<{ status: string }>).filter(
        (r) => r.status === "in_flight",
      ).length;
      expect(heldByCorpses).toBeGreaterThan(0);
      if (workerKind === "cli") {
        // With the rig's staleness: gen N's workers are gone, so its rows are orphaned, and reported
        // (exit 5: unhealthy, so a deploy pipeline's `status` step fails on it).
        const status = JSON.parse(
          rig.ops(
            ["status", "--json"],
            { OUTBOX_STALE_AFTER_MS: "2000", OUTBOX_HEARTBEAT_INTERVAL_MS: "300" },
            5,
          ),
        ) as { orphaned?: unknown };
        expect(JSON.stringify(status.orphaned ?? null)).toContain(String(n));
      }

      // Retire N: a drain job of N's code empties it, then nothing of N runs.
      await drain(rig, `g${n}-drain`, n);
      const healedAt = new Date();
      expect(
        await count(
          rig,
          "SELECT count(*)::int AS n FROM cutover.outbox WHERE generation = $1 AND status IN ('pending', 'in_flight')",
          [n],
        ),
      ).toBe(0);
      await sleep(scale.phaseMs);
      await rig.stopPublishers();
      const report = await rig.settleAndCheck();
      rig.score("rolling deploy N -> N+1", report, {
        recoveryMs: await rig.recovery(healedAt),
        note: `gen ${n} killed with ${heldByCorpses} rows in flight; untouched by gen ${next} for ${((LEASE_MS * 2 + 2000) / 1000).toFixed(0)} s, then drained; recovery = drain job`,
      });
      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
    } finally {
      await rig.close();
    }
  });

  it("rollback drill: N+1 found broken, publishers back on N, N+1 drained by its own (fixed) code", async () => {
    const rig = await Rig.create("rollback", server);
    try {
      const n = await rig.allocate("v1");
      for (const w of ["a", "b"]) await rig.startWorker(`g${n}-${w}`, n, { tuning });
      await rig.startPublishers(scale.publishers, { generation: n });
      await sleep(scale.phaseMs);

      // Deploy N+1, whose handler is broken: every event fails, retries, goes dead.
      const next = await rig.allocate("v2");
      const broken = { CHAOS_BROKEN: "1" };
      for (const w of ["a", "b"]) await rig.startWorker(`g${next}-${w}`, next, { tuning, env: broken });
      await rig.startPublishers(scale.publishers, { generation: next });
      await rig.stopPublishers(n);
      await sleep(scale.phaseMs);
      await until(
        async () =>
          (await count(
            rig,
            "SELECT count(*)::int AS n FROM cutover.outbox WHERE generation = $1 AND status = 'dead'",
            [next],
          )) > 0,
        30_000,
        "N+1 to dead-letter events",
      );

      // Rollback: publishers back on N (its workers never stopped), N+1's
      // publishers and broken workers stopped; N+1's rows stay N+1's.
      await rig.startPublishers(scale.publishers, { generation: n });
      await rig.stopPublishers(next);
      await Promise.all(["a", "b"].map((w) => rig.worker(`g${next}-${w}`).stop()));
      const deadInNext = await count(
        rig,
        "SELECT count(*)::int AS n FROM cutover.outbox WHERE generation = $1 AND status = 'dead'",
        [next],
      );
      await sleep(scale.phaseMs);
      // N's workers ran all along and never touched an N+1 row (the checker
      // audits every claim). A fixed build of N+1 then retries N+1's dead
      // events and drains N+1; N+1 is retired.
      if (workerKind === "cli") rig.ops(["dead", "retry", "--all", "--generation", String(next)]);
      else {
        const { retryDead } = await import("../../packages/outbox/src/index.js");
        await retryDead(rig.db.pool, { all: true, generation: next });
      }
      await drain(rig, `g${next}-fixed`, next);
      const healedAt = new Date();
      await sleep(scale.phaseMs);
      await rig.stopPublishers();
      const report = await rig.settleAndCheck();
      rig.score("rollback drill N+1 -> N", report, {
        recoveryMs: await rig.recovery(healedAt),
        note: `${deadInNext} events dead-lettered by broken gen ${next}, retried and drained by its fixed build; gen ${n} never handled one`,
      });
      expect(deadInNext).toBeGreaterThan(0);
      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
    } finally {
      await rig.close();
    }
  });
});
