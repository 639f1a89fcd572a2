/**
 * The claimed rows this worker holds and the chunks running them: which
 * rows are in flight (their leases are extended, a stop releases them), the
 * chunks running now (stop() waits for them), how big a chunk should be, and
 * the failed chunks' rows whose release has still to reach the database.
 */
import type pg from "pg";
import type { ChunkEnv, ChunkResult } from "./chunk/chunk.js";
import { CHUNK_TIME_BUDGET_MS, processChunk, SAVEPOINT_BUDGET } from "./chunk/chunk.js";
import { type Outcome, release } from "./chunk/outcomes.js";
import type { OpenedChunk } from "./chunk/scope.js";
import type { TypedEmitter } from "./events.js";
import type { MetricsRecorder } from "./metrics.js";
import { reportOutcomes } from "./report.js";
import type { ClaimedRow } from "./sql.js";

export interface WorkHooks {
  /** A chunk finished (a slot is free). */
  chunkDone(): void;
  /** A retry becomes claimable in `inMs`. */
  retryIn(inMs: number): void;
  /** A chunk failed. */
  error(err: unknown, during: string): void;
}

export class Work {
  /** Ids of the rows this worker holds, with their topic. */
  readonly inFlight = new Map<string, { topic: string }>();
  /** The running chunk sequences (processRows). */
  readonly active = new Set<Promise<void>>();
  /**
   * Outcomes of failed chunks whose release failed too (the database was unreachable): their rows
   * are still in flight and claimed by this live worker, so no reaper takes them before their lease
   * expires. Released (fenced) before the next claim, so they run again as soon as the database
   * answers, ahead of rows published after them.
   */
  private unreleased: Outcome[] = [];
  /**
   * What handler runs have cost lately (moving averages over chunks): the
   * share of runs that wrote through ctx.tx (each a savepoint) and the time
   * per run. Chunks are sized from them (chunkSize()); a fresh consumer
   * assumes every run writes.
   */
  private writeRate = 1;
  private runMs = 0;

  constructor(
    private readonly env: ChunkEnv,
    private readonly batchSize: number,
    private readonly recorder: MetricsRecorder,
    private readonly emitter: TypedEmitter,
    private readonly hooks: WorkHooks,
  ) {}

  /**
   * Events per chunk: at most batchSize, and few enough that a chunk is
   * expected to take fewer than SAVEPOINT_BUDGET savepoints and about half of
   * CHUNK_TIME_BUDGET_MS of handler time. Handlers that do not write through
   * ctx.tx (relays, HTTP calls) and are quick get whole batchSize chunks, so
   * a chunk's four statements are shared by hundreds of events; writing
   * handlers get chunks of ~56. A chunk that runs over a budget anyway
   * defers the rest to a fresh chunk.
   */
  chunkSize(): number {
    const byWrites = this.writeRate > 0 ? Math.floor(SAVEPOINT_BUDGET / this.writeRate) : Infinity;
    const byTime = this.runMs > 0 ? Math.floor(CHUNK_TIME_BUDGET_MS / 2 / this.runMs) : Infinity;
    return Math.max(1, Math.min(this.batchSize, byWrites, byTime));
  }

  private observe(runs: number, writes: number, handlerMs: number): void {
    if (runs === 0) return;
    const a = Math.min(0.8, runs / 100);
    this.writeRate = this.writeRate * (1 - a) + (writes / runs) * a;
    if (this.writeRate < 0.001) this.writeRate = 0;
    this.runMs = this.runMs * (1 - a) + (handlerMs / runs) * a;
  }

  /** Takes claimed rows in hand (before their chunks start). */
  hold(rows: ClaimedRow[]): void {
    for (const r of rows) this.inFlight.set(r.id, { topic: r.topic });
  }

  /** Starts a chunk sequence for `rows`; `opened` is a transaction begun during the claim. */
  runChunk(rows: ClaimedRow[], opened?: Promise<OpenedChunk | undefined>): void {
    const p: Promise<void> = this.processRows(rows, opened).finally(() => {
      this.active.delete(p);
      this.hooks.chunkDone();
    });
    this.active.add(p);
  }

  /**
   * Runs claimed rows chunk after chunk: rows a chunk deferred (over its
   * savepoint or time budget) are still claimed by this worker with their
   * attempt counted once, so they run next in a fresh chunk, inside the same
   * active promise (stop() waits for them, or aborts and releases them).
   */
  private async processRows(rows: ClaimedRow[], opened?: Promise<OpenedChunk | undefined>): Promise<void> {
    let batch = rows;
    let first = opened;
    while (batch.length > 0) {
      let deferred: ClaimedRow[] = [];
      try {
        const res = await processChunk(this.env, batch, first);
        first = undefined;
        if (res.kind === "committed") deferred = res.deferred;
        this.settle(res);
      } catch (err) {
        // processChunk returns its failures; this is a bug's last line of defence.
        this.hooks.error(err, "chunk");
      } finally {
        const keep = new Set(deferred.map((r) => r.id));
        for (const r of batch) if (!keep.has(r.id)) this.inFlight.delete(r.id);
      }
      batch = deferred;
    }
  }

  private settle(res: ChunkResult): void {
    if (res.kind === "failed") {
      this.hooks.error(res.error, "chunk");
      this.report(res.outcomes);
      if (res.unreleased.length > 0) this.unreleased.push(...res.unreleased);
      return;
    }
    if (res.cost) this.observe(res.cost.runs, res.cost.writes, res.cost.handlerMs);
    if (res.fencedOut.length > 0) {
      this.env.logger.warn(
        { ids: res.fencedOut, workerId: this.env.workerId },
        "rows were reaped from this worker while it processed them; the fence kept their new owner's result",
      );
    }
    const fenced = new Set(res.fencedOut);
    this.report(res.outcomes.filter((o) => !fenced.has(o.event.id)));
  }

  private report(outcomes: Outcome[]): void {
    const nextRetry = reportOutcomes(outcomes, this.recorder, this.emitter);
    if (Number.isFinite(nextRetry)) this.hooks.retryIn(nextRetry);
  }

  hasUnreleased(): boolean {
    return this.unreleased.length > 0;
  }

  /**
   * Retries the release of failed chunks' rows (fenced). Throws when the database still does not
   * answer; the outcomes are kept for the next try (and the lease is the backstop).
   */
  async releaseUnreleased(pool: pg.Pool): Promise<void> {
    const outcomes = this.unreleased;
    this.unreleased = [];
    let ids: string[];
    try {
      ids = await release(this.env, pool, outcomes);
    } catch (err) {
      this.unreleased = outcomes.concat(this.unreleased);
      throw err;
    }
    const got = new Set(ids);
    this.report(outcomes.filter((o) => got.has(o.event.id)));
  }

  unreleasedIds(): string[] {
    return this.unreleased.map((o) => o.event.id);
  }

  /** Waits for the running chunks, at most `timeoutMs`; false when they did not finish. */
  async finish(timeoutMs: number): Promise<boolean> {
    if (this.active.size === 0) return true;
    const all = Promise.allSettled([...this.active]);
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      all.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return finished;
  }

  /** Waits for every running chunk, however long (after a forced abort). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.active]);
  }
}
