/**
 * The database server CRASHES (immediate shutdown: no checkpoint, WAL buffers
 * lost) several times while workers burn down a backlog, and comes back
 * through crash recovery. This is the test of docs/guarantees.md,
 * "Asynchronous claim commits": the claim commits with synchronous_commit =
 * off, so a crash may undo claims the workers already acted on. What must
 * hold: a lost claim leaves its row pending with the earlier attempt count
 * and it is claimed again (nothing lost), no handler effect outlives its
 * claim (nothing doubled), and what a worker was told had committed (the
 * chunk's synchronous COMMIT) is still there after recovery (no event
 * acknowledged twice).
 *
 * Which change to the consumer makes it fail: the claim's
 * `set_config('synchronous_commit', 'off', true)` with `false` instead of
 * `true` (mutant `claim-async-session`, test/chaos/mutants.mjs). The setting
 * then outlives the claim's transaction and stays on its pooled connection,
 * so the chunk COMMITs later sent on it are asynchronous too; a crash undoes
 * chunks their workers had already reported handled, the events run again,
 * and the acknowledgement check below counts them twice (measured: "20
 * events acknowledged twice" in a CI-scale run). The database-side checker
 * alone does not catch it: recovery replays a prefix of the WAL, so a lost
 * chunk takes its effect and its event_handled row with it, and the redo
 * leaves exactly one of each.
 */
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retrying } from "./lib/cluster.js";
import { type CrashableServer, RECOVERY_LOG, startCrashableServer } from "./lib/crashable.js";
import { readAcks, readRuns } from "./lib/evidence.js";
import { Rig, sleep, until } from "./lib/rig.js";
import { scale } from "./lib/scale.js";

let server: CrashableServer;
beforeAll(async () => {
  server = await startCrashableServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Errors a release may record when a crash broke its chunk: the connection or the server went away. */
const CRASH_ERROR =
  /terminat|Connection|ECONNRESET|ECONNREFUSED|EPIPE|shut ?down|recovery mode|starting up|not yet accepting|crash|timeout|Client has encountered|Query read timeout/i;

const count = (xs: string, needle: string) => xs.split(needle).length - 1;

describe("database server crashes", () => {
  it("database crashed (immediate shutdown) during a burn-down, repeatedly: lost claims are redone, nothing lost, doubled or acknowledged twice", async () => {
    const rig = await Rig.create("srvcrash", server);
    try {
      const pool = rig.db.pool;
      const gen = await rig.db.allocate("v1");
      // The backlog: unthrottled publishers, then the workers burn it down.
      await rig.startPublishers(scale.publishers, { generation: gen, rate: 0 });
      await sleep(scale.backlogMs);
      await rig.stopPublishers();
      const backlog = (
        await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM cutover.outbox WHERE status = 'pending'",
        )
      ).rows[0]!.n;

      const runDir = join(rig.dir, "runs");
      mkdirSync(runDir);
      const ids = ["a", "b", "c"].map((n) => `g${gen}-${n}`);
      // Started together: one after another, on a loaded machine the first
      // two burned the whole backlog down before the third was running, and
      // the crash loop then waited in vain for rows in flight.
      await Promise.all(
        ids.map((id) =>
          rig.startWorker(id, gen, {
            env: { CHAOS_RUN_LOG: join(runDir, `${id}.jsonl`), LOG_LEVEL: "info", CHAOS_LOG_HANDLED: "1" },
          }),
        ),
      );

      const done = async () =>
        (await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM public.chaos_effects")).rows[0]!.n;
      const inFlight = async () =>
        (
          await pool.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM cutover.outbox WHERE status = 'in_flight'",
          )
        ).rows[0]!.n;

      const runBytes = () =>
        ids.reduce((a, id) => {
          try {
            return a + statSync(join(runDir, `${id}.jsonl`)).size;
          } catch {
            return a;
          }
        }, 0);
      const heldAtCrash: number[] = [];
      let downMs = 0;
      let healedAt = new Date();
      for (let i = 0; i < scale.serverCrashes; i++) {
        // Spread the crashes over the burn-down, each with handlers running.
        const target = Math.floor((backlog * (i + 1)) / (scale.serverCrashes + 2));
        await retrying(async () => {
          if ((await done()) < target) throw new Error("burn-down not far enough yet");
        }, 120_000);
        let held = 0;
        await until(
          async () => {
            held = await inFlight();
            return held > 0;
          },
          30_000,
          "rows in flight",
        );
        // Widen the window in which an asynchronous commit is not yet
        // written (PostgreSQL allows up to 0.6 s; under load its WAL writer
        // closes it within a millisecond): hold the WAL writer for 100 ms,
        // then crash the moment a handler starts. Its claim was acknowledged
        // a moment ago; unless another chunk's synchronous COMMIT came in
        // between, the crash takes it.
        server.holdWalWriter();
        await sleep(100);
        const before = runBytes();
        for (let spin = 0; spin < 5000 && runBytes() === before; spin++) await sleep(1);
        const recoveriesBefore = count(server.log(), RECOVERY_LOG);
        const t0 = Date.now();
        await server.crash();
        await server.start();
        downMs += Date.now() - t0;
        healedAt = new Date();
        heldAtCrash.push(held);
        // The restart ran crash recovery: the crash was real.
        expect(count(server.log(), RECOVERY_LOG)).toBe(recoveriesBefore + 1);
        await retrying(() => pool.query("SELECT 1"));
      }

      const report = await rig.settleAndCheck();
      const alive = ids.map((id) => rig.worker(id).alive);
      await Promise.all(ids.map((id) => rig.worker(id).stop()));
      await sleep(200);

      const runs = readRuns(runDir);
      const acks = readAcks(ids.map((id) => join(rig.logDir, `worker-${id}.log`)));
      const ackedTwice = [...acks].filter(([, n]) => n > 1).map(([id, n]) => `event ${id} x${n}`);
      const doneIds = new Set(
        (
          await pool.query<{ id: string }>(
            `SELECT id::text AS id FROM cutover.outbox WHERE status = 'done'
             UNION SELECT event_id::text FROM public.chaos_effects`,
          )
        ).rows.map((r) => r.id),
      );
      const ackedNotDone = [...acks.keys()].filter((id) => !doneIds.has(id));
      // From the run log: the completion deleted the rows, and their attempts with them.
      const attempts = runs.lastAttempts;
      expect(attempts.length).toBeGreaterThan(0);
      const maxAttempts = Math.max(...attempts.map((r) => r.attempts));
      // Every attempt beyond a row's first was failed by a crash: a reap (its
      // chunk's connection died, the lease ran out) or a release whose error
      // is the lost connection. Nothing else made a handler fail.
      const otherFailures = (
        await pool.query<{ id: string; error: string | null }>(
          `SELECT id::text, error FROM public.chaos_transitions
            WHERE old_status = 'in_flight' AND new_status NOT IN ('done', 'deleted') AND NOT reaped`,
        )
      ).rows.filter((r) => !CRASH_ERROR.test(r.error ?? ""));
      const reaped = (
        await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM public.chaos_transitions WHERE reaped",
        )
      ).rows[0]!.n;
      const retried = (
        await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM public.chaos_transitions
            WHERE old_status = 'in_flight' AND new_status = 'pending' AND NOT reaped`,
        )
      ).rows[0]!.n;

      rig.score("database crashed mid-burn-down, repeatedly", report, {
        recoveryMs: await rig.recovery(healedAt),
        note:
          `${scale.serverCrashes} immediate shutdowns (SIGQUIT) during the burn-down of ${backlog} events, ` +
          `each followed by crash recovery, ${(downMs / scale.serverCrashes / 1000).toFixed(1)} s down on average; ` +
          `${heldAtCrash.join("/")} rows in flight at the crashes; ${runs.lostClaims} claims acknowledged and then lost ` +
          `(run again at the same attempt); ${reaped} reaped, ${retried} retried; max attempts ${maxAttempts}; ` +
          `${acks.size} acknowledged (${ackedTwice.length} twice, ${ackedNotDone.length} not done)`,
      });
      process.stdout.write(
        `[chaos] server crash: attempts ${JSON.stringify(attempts)}; lost claims ${JSON.stringify(runs.lostClaimSamples)}; ` +
          `other failures ${JSON.stringify(otherFailures.slice(0, 5))}\n`,
      );

      expect(report.settled).toBe(true);
      expect(report.violations).toEqual([]);
      expect(report.committed).toBe(backlog);
      expect(report.deadByTopic["chaos.order"] ?? 0).toBe(0);
      expect(alive).toEqual(ids.map(() => true));
      expect(heldAtCrash.every((n) => n > 0)).toBe(true);
      // What a worker was told had committed survived every crash.
      expect(ackedTwice).toEqual([]);
      expect(ackedNotDone).toEqual([]);
      expect(acks.size).toBeGreaterThan(0);
      // Attempts are explained by the crashes alone.
      expect(otherFailures).toEqual([]);
      expect(maxAttempts).toBeLessThanOrEqual(1 + scale.serverCrashes);
    } finally {
      await rig.close();
    }
  });
});
