/**
 * What a server crash leaves outside the database, read back after the run:
 *
 * - handler runs (CHAOS_RUN_LOG, fixtures/handlers.mjs): one line per
 *   chaos.effect run with the event's attempt number, written before the
 *   handler's transaction, so runs a crash took away still count. The claim
 *   is the only statement that raises `attempts`, so two runs of one event at
 *   the same attempt number mean the first run's claim was acknowledged to its
 *   worker and then lost: an asynchronous commit the crash undid.
 * - acknowledgements: the "event handled" lines a worker logs once the
 *   chunk's COMMIT was acknowledged. A synchronous commit that was
 *   acknowledged survives a crash, and a `done` row is never claimed again,
 *   so no event may be acknowledged twice.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface RunEvidence {
  runs: number;
  /** Runs at an attempt number an earlier run of the same event already had: claims lost by a crash. */
  lostClaims: number;
  /** Examples: `key@attempt xN`. */
  lostClaimSamples: string[];
  /** Events by the attempt number of their last run (the rows are deleted on completion). */
  lastAttempts: Array<{ attempts: number; n: number }>;
}

/** Reads every *.jsonl run log of `dir` (lines `{"k":key,"a":attempt}`). */
export function readRuns(dir: string): RunEvidence {
  const seen = new Map<string, number>();
  const last = new Map<string, number>();
  let runs = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".jsonl"))) {
    for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { k: string; a: number };
      runs++;
      last.set(r.k, Math.max(last.get(r.k) ?? 0, r.a));
      const id = `${r.k}@${r.a}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  const repeated = [...seen].filter(([, n]) => n > 1);
  const byAttempt = new Map<number, number>();
  for (const a of last.values()) byAttempt.set(a, (byAttempt.get(a) ?? 0) + 1);
  return {
    lastAttempts: [...byAttempt].sort(([a], [b]) => a - b).map(([attempts, n]) => ({ attempts, n })),
    runs,
    lostClaims: repeated.reduce((a, [, n]) => a + n - 1, 0),
    lostClaimSamples: repeated.slice(0, 5).map(([id, n]) => `${id} x${n}`),
  };
}

/** Event id -> how many times a worker acknowledged it handled, from the workers' log files. */
export function readAcks(files: string[]): Map<string, number> {
  const acks = new Map<string, number>();
  for (const f of files) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, "utf8").split("\n")) {
      if (!line.includes('"event handled"')) continue;
      const m = /"event_id":"(\d+)"/.exec(line);
      if (!m) continue;
      acks.set(m[1]!, (acks.get(m[1]!) ?? 0) + 1);
    }
  }
  return acks;
}
