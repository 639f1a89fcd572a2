/**
 * Claiming: one claim at a time, woken by notifications, the poller, a due
 * retry or a free slot; the claimed rows split into chunks that Work runs.
 * Before a claim, it gives back what an earlier database failure may have
 * left held: failed chunks' rows whose release did not arrive, and rows
 * whose claim committed while its answer was lost.
 */
import type pg from "pg";
import { corkedPoolQuery } from "../db.js";
import type { Logger } from "../logger.js";
import { discardChunkTransaction, openChunkTransaction } from "./chunk/scope.js";
import type { TypedEmitter } from "./events.js";
import type { HandlerIndex } from "./handlers.js";
import type { MetricsRecorder } from "./metrics.js";
import type { ClaimedRow, Statements } from "./sql.js";
import type { Work } from "./work.js";

export interface ClaimerDeps {
  pool: pg.Pool;
  sql: Statements;
  generation: number;
  workerId: string;
  leaseMs: number;
  concurrency: number;
  handlers: HandlerIndex;
  work: Work;
  recorder: MetricsRecorder;
  emitter: TypedEmitter;
  logger: Logger;
  /** The database answered a statement. */
  answered(): void;
  error(err: unknown, during: string): void;
}

export class Claimer {
  /** Claims run only while accepting (between start and stop). */
  accepting = false;
  private pumping: Promise<void> | undefined;
  private wakeAgain = false;
  /** A notification arrived since the last claim: the next claim opens its chunk transaction alongside. */
  private notified = false;
  /** Every slot was busy when woken: claim again once a chunk finishes. */
  private backlog = false;
  /** Set when a database call failed: before the next claim, give back claims whose answer was lost. */
  private lostClaimsPossible = false;
  private idleWaiters: Array<() => void> = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;

  constructor(private readonly d: ClaimerDeps) {}

  /** A notification arrived: rows are probably there. */
  notify(): void {
    this.notified = true;
    this.wake();
  }

  /** A claim's answer may have been lost with the connection. */
  claimsMayBeLost(): void {
    this.lostClaimsPossible = true;
  }

  /** Wakes the claimer: one claim at a time; a wake during a claim schedules exactly one more. */
  wake(): void {
    if (!this.accepting) return;
    if (this.pumping) {
      this.wakeAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      this.notifyIdle();
    });
  }

  /** A chunk finished: a slot is free. */
  chunkDone(): void {
    if (this.backlog) {
      this.backlog = false;
      this.wake();
    }
    this.notifyIdle();
  }

  /** A retry becomes claimable without a notification: wake when the earliest is due. */
  wakeIn(inMs: number): void {
    if (!this.accepting) return;
    const at = Date.now() + inMs + 5;
    if (this.retryTimer && this.retryAt <= at) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.wake();
      },
      Math.max(0, inMs + 5),
    );
  }

  /** Stops claiming; resolves once the running claim (if any) ended. */
  async stop(): Promise<void> {
    this.close();
    await this.pumping;
  }

  /** Stops claiming and clears the retry wake-up, without waiting. */
  close(): void {
    this.accepting = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async pump(): Promise<void> {
    for (;;) {
      this.wakeAgain = false;
      const free = this.d.concurrency - this.d.work.active.size;
      if (free <= 0) {
        this.backlog = true;
        return;
      }
      let full: boolean;
      const preopen = this.notified;
      this.notified = false;
      try {
        full = await this.claim(free, preopen);
      } catch (err) {
        this.d.error(err, "claim");
        return;
      }
      if (!this.accepting) return;
      if (full || this.wakeAgain) continue;
      this.backlog = false;
      return;
    }
  }

  /**
   * Claims and starts chunks. With `preopen` (woken by a notification, so
   * rows are probably there) the first chunk's connection and BEGIN are
   * opened while the claim runs, taking two statements off the path from
   * publish to handler start; if nothing is claimed they are rolled back.
   */
  private async claim(free: number, preopen = false): Promise<boolean> {
    const { pool, work, handlers } = this.d;
    if (work.hasUnreleased()) await work.releaseUnreleased(pool);
    if (this.lostClaimsPossible) await this.releaseLostClaims();
    const limit = free * work.chunkSize();
    const params: unknown[] = [
      this.d.generation,
      limit,
      this.d.workerId,
      this.d.leaseMs,
      handlers.eager.topics,
      handlers.eager.names,
      ...handlers.filterParams(),
    ];
    let opening = preopen ? openChunkTransaction(pool) : undefined;
    let rows: ClaimedRow[];
    try {
      ({ rows } = await corkedPoolQuery<ClaimedRow>(pool, this.d.sql.claim, params));
    } catch (err) {
      if (opening) void discardChunkTransaction(opening);
      throw err;
    }
    this.d.answered();
    const maxLag = rows.reduce((m, r) => Math.max(m, r.lag_ms), 0);
    this.d.recorder.claimed(rows.length, rows.length > 0 ? maxLag : null);
    if (rows.length === 0) {
      if (opening) void discardChunkTransaction(opening);
      return false;
    }
    // Ids are bigint text: shorter is smaller, then compare as strings.
    rows.sort((a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    work.hold(rows);
    this.d.emitter.emit("claimed", {
      count: rows.length,
      ids: rows.map((r) => r.id),
      lagMs: Math.round(maxLag),
    });
    const chunks = Math.min(free, rows.length);
    const per = Math.ceil(rows.length / chunks);
    for (let i = 0; i < rows.length; i += per) {
      work.runChunk(rows.slice(i, i + per), opening);
      opening = undefined;
    }
    return rows.length === limit;
  }

  /**
   * Gives back rows claimed by this worker that it does not know it holds (their claim's answer was
   * lost with the connection). Runs from the claim path only, so no other claim of this consumer is
   * in flight; rows of running chunks are in `inFlight` and stay untouched. Throws when the database
   * still does not answer (the flag stays set).
   */
  private async releaseLostClaims(): Promise<void> {
    const { rows } = await this.d.pool.query<{ id: string }>(this.d.sql.releaseLostClaims, [
      this.d.generation,
      this.d.workerId,
      [...this.d.work.inFlight.keys()],
    ]);
    this.lostClaimsPossible = false;
    if (rows.length > 0) {
      this.d.logger.warn(
        { ids: rows.map((r) => r.id), workerId: this.d.workerId },
        "released rows whose claim's answer was lost with the connection",
      );
    }
  }

  /** Whether no claim and no chunk is running. */
  private idle(): boolean {
    return !this.pumping && this.d.work.active.size === 0;
  }

  private notifyIdle(): void {
    if (!this.idle()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves once idle, or when `signal` aborts. */
  waitIdle(signal: AbortSignal): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.idleWaiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Releases every idle waiter (teardown). */
  releaseWaiters(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
