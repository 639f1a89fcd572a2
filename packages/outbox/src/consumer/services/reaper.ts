/**
 * The reaper: re-pends (or, at the attempt limit, deads) in-flight rows of
 * this generation whose lease expired or whose owner is exited, stale or
 * unknown. The dead-or-pending rule is outcome.ts's, applied set-wise in SQL
 * (sql.ts `reap`) with the limits of RetryPolicies.
 */
import type pg from "pg";
import type { TypedEmitter } from "../events.js";
import { Loop } from "../loop.js";
import type { MetricsRecorder } from "../metrics.js";
import type { RetryPolicies } from "../outcome.js";
import type { Statements } from "../sql.js";

/** Rows per reap statement; a pass runs at most 100 of them. */
const REAP_BATCH = 500;

export interface ReaperDeps {
  pool: pg.Pool;
  sql: Statements;
  generation: number;
  staleAfterMs: number;
  intervalMs: number;
  retry: RetryPolicies;
  recorder: MetricsRecorder;
  emitter: TypedEmitter;
  /** The database answered. */
  answered(): void;
  /** Reaped rows are claimable again. */
  wake(): void;
  onError(err: unknown, loop: string): void;
}

type ReapedRow = { id: string; topic: string; status: string; claimed_by: string };

export class Reaper {
  readonly loop: Loop;
  lastRunAt: Date | null = null;
  lastReaped = 0;

  constructor(private readonly d: ReaperDeps) {
    this.loop = new Loop("reaper", d.intervalMs, () => this.reap(), d.onError);
  }

  private async reap(): Promise<void> {
    this.lastRunAt = new Date();
    const { limits, default: policy } = this.d.retry;
    let total = 0;
    for (let round = 0; round < 100; round++) {
      const { rows } = await this.d.pool.query<ReapedRow>(this.d.sql.reap, [
        this.d.generation,
        this.d.staleAfterMs,
        policy.maxAttempts,
        limits.topics,
        limits.max,
        REAP_BATCH,
      ]);
      this.d.answered();
      total += rows.length;
      if (rows.length === 0) break;
      this.report(rows);
      this.d.wake();
      if (rows.length < REAP_BATCH) break;
    }
    this.lastReaped = total;
  }

  private report(rows: ReapedRow[]): void {
    const dead = rows.filter((r) => r.status === "dead").map((r) => r.id);
    for (const r of rows) {
      this.d.recorder.count("reaped", r.topic);
      if (r.status === "dead") this.d.recorder.count("dead", r.topic, "(reaper)");
    }
    this.d.emitter.emit("reaped", {
      count: rows.length,
      ids: rows.map((r) => r.id),
      dead,
      fromWorkers: [...new Set(rows.map((r) => r.claimed_by))],
    });
  }
}
