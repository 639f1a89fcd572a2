/**
 * The heartbeat: registers and refreshes this worker's workers row (status,
 * handlers, topics), every heartbeatIntervalMs and at once on a state change.
 * A worker whose row goes stale is treated as gone and its rows are reaped.
 */
import { hostname } from "node:os";
import type pg from "pg";
import { Loop } from "../loop.js";
import type { ResolvedOptions } from "../options.js";
import type { Statements } from "../sql.js";

export interface HeartbeatDeps {
  pool: pg.Pool;
  sql: Statements;
  o: ResolvedOptions;
  subscriptions: readonly string[];
  /** The workers row's status now. */
  status(): string;
  /** The database answered. */
  answered(): void;
  onError(err: unknown, loop: string): void;
}

export class Heartbeat {
  readonly loop: Loop;
  lastBeatAt: Date | null = null;
  private ok = false;

  constructor(private readonly d: HeartbeatDeps) {
    this.loop = new Loop("heartbeat", d.o.heartbeatIntervalMs, () => this.beat(), d.onError);
  }

  /** Writes the workers row now, with `status` (default: the consumer's). */
  async beat(status = this.d.status()): Promise<void> {
    const o = this.d.o;
    try {
      await this.d.pool.query(this.d.sql.heartbeat, [
        o.workerId,
        o.generation,
        o.version,
        hostname().slice(0, 200),
        process.pid,
        status,
        JSON.stringify({
          handlers: o.handlers.map((h) => h.name),
          topics: this.d.subscriptions,
          concurrency: o.concurrency,
          batchSize: o.batchSize,
        }),
      ]);
      this.lastBeatAt = new Date();
      this.ok = true;
      this.d.answered();
    } catch (err) {
      this.ok = false;
      throw err;
    }
  }

  /** The last beat succeeded and is recent enough that no reaper would call this worker stale. */
  healthy(): boolean {
    return (
      this.ok && this.lastBeatAt !== null && Date.now() - this.lastBeatAt.getTime() < this.d.o.staleAfterMs
    );
  }
}
