/**
 * A chunk's flow: claimed rows run in ONE transaction on one connection.
 * The (handler, key) rows are inserted first (a conflict = ran already,
 * skip), each handler runs behind a savepoint (rolled back if it fails), and
 * the fenced completion (delete, or `done` with completion "keep") and the
 * retry/dead updates commit in the same transaction, so a handler's writes,
 * its event_handled row and the event's completion or new status commit
 * together or not at all. Events whose handlers all set maxInFlight > 1 (no
 * ctx.tx) run overlapped, each ordering key's events still one after another
 * (runEvents). A chunk returns what happened as a value (ChunkResult); it
 * never throws its outcomes.
 */
import type pg from "pg";
import { idArrayLiteral, textArrayLiteral } from "../../array-literal.js";
import { corked } from "../../db.js";
import { type CatalogLike, type HandlerDefinition, MAX_IN_FLIGHT, type OutboxEvent } from "../../handler.js";
import type { Logger } from "../../logger.js";
import type { HandlerIndex } from "../handlers.js";
import type { MetricsRecorder } from "../metrics.js";
import type { Completion } from "../options.js";
import { connectionUnusable, type Failure, isInfrastructureFailure, type RetryPolicies } from "../outcome.js";
import type { ClaimedRow, Statements } from "../sql.js";
import { failedOutcome, message, type Outcome, release, toEvent } from "./outcomes.js";
import { type RunResult, runHandler, StuckHandler } from "./run-handler.js";
import {
  type ChunkState,
  drainAhead,
  newChunkState,
  newLane,
  type OpenedChunk,
  SAVEPOINT,
  setAhead,
  transactionStatus,
} from "./scope.js";

/**
 * Savepoints (handler runs that wrote through ctx.tx) one chunk transaction
 * may take. Each is a subtransaction whose XID stays with the transaction;
 * past 64 Postgres' per-backend subtransaction cache overflows and every
 * session's snapshots slow down while the transaction is open. The consumer
 * sizes chunks to stay below this; a chunk that reaches it anyway defers its
 * remaining events to a fresh chunk.
 */
export const SAVEPOINT_BUDGET = 56;

/** A chunk transaction that has run handlers this long defers its remaining events to a fresh chunk. */
export const CHUNK_TIME_BUDGET_MS = 1000;

/** What a chunk reads from its consumer; nothing in it changes while the chunk runs. */
export interface ChunkEnv {
  pool: pg.Pool;
  sql: Statements;
  generation: number;
  workerId: string;
  /** How a handled event's row is completed: deleted, or kept as `done` until pruned. */
  completion: Completion;
  /** Which handlers an event's topic reaches, and which of them may start eagerly. */
  handlers: HandlerIndex;
  /** Attempt limits and backoff (outcome.ts). */
  retry: RetryPolicies;
  events: CatalogLike | undefined;
  handlerTimeoutMs: number;
  /** Idle, statement and lock timeout of a chunk transaction (bounds.ts), set by its first statement. */
  sessionMs: number;
  logger: Logger;
  /** Aborted when stop() ran out of time: running handlers are aborted, the rest released. */
  forced: AbortSignal;
  /** Where each handler run's duration is recorded. */
  metrics: Pick<MetricsRecorder, "duration">;
}

/** What a committed chunk's handler runs cost (the consumer sizes chunks from it). */
export interface ChunkCost {
  runs: number;
  /** Runs that wrote through ctx.tx (took a savepoint). */
  writes: number;
  handlerMs: number;
}

export type ChunkResult =
  | {
      kind: "committed";
      outcomes: Outcome[];
      /**
       * Rows not started because the chunk reached its savepoint or time budget:
       * still in flight and claimed by this worker, their attempt counted once;
       * the caller runs them in a fresh chunk.
       */
      deferred: ClaimedRow[];
      /** Ids whose fenced update found the row no longer mine (reaped and re-claimed meanwhile). */
      fencedOut: string[];
      /** Null when no chunk transaction ran (a stuck handler's event was its only row). */
      cost: ChunkCost | null;
    }
  | {
      /** Nothing of the chunk committed; its rows were released (fenced), or could not be. */
      kind: "failed";
      /** Why the chunk failed. */
      error: unknown;
      /** Outcomes of the rows the release gave back (pending again, or dead). */
      outcomes: Outcome[];
      /** Outcomes whose release failed too (the database did not answer): still in flight, mine. */
      unreleased: Outcome[];
    };

/** `overlap`: how many events may be in flight while this one runs (1 = it runs alone). */
type Planned = {
  event: OutboxEvent;
  handlers: readonly HandlerDefinition[];
  seen: boolean | null;
  overlap: number;
};
type Failed = { handler: HandlerDefinition; error: string; permanent: boolean; interrupted: boolean };

/** Runs one chunk of claimed rows; `opened` is a transaction begun while they were being claimed. */
export function processChunk(
  env: ChunkEnv,
  rows: ClaimedRow[],
  opened?: Promise<OpenedChunk | undefined>,
): Promise<ChunkResult> {
  return new Chunk(env, rows).run(opened);
}

const keyOf = (handler: string, key: string) => `${handler}\u0000${key}`;

/** A handler whose runs may overlap (maxInFlight > 1): it runs in a lane, without ctx.tx. */
const overlaps = (h: HandlerDefinition) => (h.maxInFlight ?? 1) > 1;

/** How many events may be in flight with one that reaches `handlers`: the smallest maxInFlight. */
function overlapOf(handlers: readonly HandlerDefinition[]): number {
  if (handlers.length === 0) return 1;
  let n = MAX_IN_FLIGHT;
  for (const h of handlers) n = Math.min(n, h.maxInFlight ?? 1);
  return n;
}

class Chunk {
  private readonly events: OutboxEvent[];
  private readonly outcomes: Outcome[] = [];
  private client: pg.PoolClient | undefined;
  /** Set when a handler did not stop and its connection was terminated. */
  private stuck: StuckHandler | undefined;
  private state: ChunkState | undefined;
  /** Every lane this chunk opened (runs of handlers with maxInFlight > 1), and those free now. */
  private readonly lanes: ChunkState[] = [];
  private readonly freeLanes: ChunkState[] = [];
  private onForced: (() => void) | undefined;
  /**
   * A checked-out client has no pool error listener: without this, a
   * connection dropped between two statements (database restart) would be an
   * unhandled 'error' event. The next statement on it fails and is handled.
   */
  private readonly onClientError = (err: Error) =>
    this.env.logger.warn({ err: err.message }, "chunk connection lost");
  /** The (handler, key) pairs the insert recorded (fresh), once it answered. */
  private recorded: Promise<Set<string>> = Promise.resolve(new Set<string>());
  /** What is left of `recorded`: each pair is fresh once. Undefined until awaited. */
  private fresh: Set<string> | undefined;
  /** (handler, key) rows to forget: their run failed or never happened. */
  private readonly failedNames: string[] = [];
  private readonly failedKeys: string[] = [];
  private readonly deferredIds = new Set<string>();
  private started = 0;
  private runs = 0;
  private writes = 0;

  constructor(
    private readonly env: ChunkEnv,
    private readonly rows: ClaimedRow[],
  ) {
    this.events = rows.map(toEvent);
  }

  async run(opened?: Promise<OpenedChunk | undefined>): Promise<ChunkResult> {
    const env = this.env;
    try {
      const client = await this.open(opened);
      const { valid, invalid } = this.validate();
      const state = newChunkState(client);
      this.state = state;
      this.insertKeys(valid);
      this.onForced = () => {
        state.current?.interrupt("forced");
        for (const lane of this.lanes) lane.current?.interrupt("forced");
      };
      env.forced.addEventListener("abort", this.onForced, { once: true });
      this.started = performance.now();
      this.outcomes.push(...(await this.runEvents(valid)), ...invalid);
      return await this.commit();
    } catch (err) {
      return await this.fail(err);
    } finally {
      if (this.state) clearTimeout(this.state.timer);
      for (const lane of this.lanes) clearTimeout(lane.timer);
      if (this.onForced) env.forced.removeEventListener("abort", this.onForced);
      this.client?.off("error", this.onClientError);
      this.client?.release();
    }
  }

  private async open(opened?: Promise<OpenedChunk | undefined>): Promise<pg.PoolClient> {
    const pre = opened ? await opened : undefined;
    if (pre) {
      // Opened (BEGIN sent) while the rows were being claimed.
      this.client = pre.client;
      pre.client.on("error", this.onClientError);
      pre.client.off("error", pre.onError);
      return pre.client;
    }
    const client = await this.env.pool.connect();
    this.client = client;
    client.on("error", this.onClientError);
    await client.query("BEGIN");
    return client;
  }

  /** Re-validates payloads against the events catalog, if any: a rejected one goes dead. */
  private validate(): { valid: Planned[]; invalid: Outcome[] } {
    const env = this.env;
    const valid: Planned[] = [];
    const invalid: Outcome[] = [];
    for (let i = 0; i < this.events.length; i++) {
      const event = this.events[i]!;
      if (env.events) {
        try {
          event.payload = env.events.parse(event.topic, event.payload);
        } catch (err) {
          invalid.push({
            kind: "dead",
            event,
            handler: null,
            error: `payload rejected by the events catalog: ${message(err)}`,
            retryInMs: null,
            succeeded: [],
            failedHandlers: [],
          });
          continue;
        }
      }
      const handlers = env.handlers.for(event.topic);
      valid.push({ event, handlers, seen: this.rows[i]!.seen, overlap: overlapOf(handlers) });
    }
    return { valid, invalid };
  }

  /**
   * Sends the event_handled insert. Every (handler, key) of the chunk is fresh
   * except those the insert reports as already recorded (usually none, so
   * little comes back). Its answer is awaited before anything depends on it,
   * except by the chunk's first handler run when that run is eager.
   */
  private insertKeys(valid: Planned[]): void {
    const names: string[] = [];
    const keys: string[] = [];
    const ids: string[] = [];
    for (const v of valid) {
      for (const h of v.handlers) {
        names.push(h.name);
        keys.push(v.event.idempotencyKey);
        ids.push(v.event.id);
      }
    }
    if (names.length > 0) {
      const env = this.env;
      const insert = corked(this.client!).query<{ handler_name: string; idempotency_key: string }>(
        env.sql.insertHandled,
        [
          textArrayLiteral(names),
          textArrayLiteral(keys),
          idArrayLiteral(ids),
          env.generation,
          env.workerId,
          String(env.sessionMs),
        ],
      );
      setAhead(this.state!, insert);
      this.recorded = insert.then((res) => {
        const f = new Set<string>();
        for (let i = 0; i < names.length; i++) f.add(keyOf(names[i]!, keys[i]!));
        for (const r of res.rows) f.delete(keyOf(r.handler_name, r.idempotency_key));
        return f;
      });
    }
    // Awaited later; if it fails the chunk fails there.
    this.recorded.catch(() => {});
  }

  private async freshKeys(): Promise<Set<string>> {
    this.fresh ??= await this.recorded;
    return this.fresh;
  }

  /**
   * Runs the events in claim order and returns their outcomes in that order
   * (none for a deferred event). An event whose handlers all set maxInFlight
   * > 1 starts while earlier ones still run, as long as fewer than its
   * `overlap` are in flight; any other event waits for those before it and
   * runs alone, so the chunk's own statements (savepoints, ROLLBACK TO)
   * never meet an overlapped run. An ordering key's events run one after
   * another: the next starts once the one before it is done; when that one
   * was not (failed, released or deferred), the next is not run either: it
   * is deferred with it, or released (its attempt given back) to be claimed
   * after it. (The claim gives a chunk one event per key; this keeps the
   * order should a chunk ever hold more.) A run that throws fails the chunk
   * once the runs in flight have settled.
   */
  private async runEvents(valid: Planned[]): Promise<Outcome[]> {
    const outcomes: Array<Outcome | null> = new Array(valid.length).fill(null);
    const byKey = new Map<string, Promise<Outcome | null>>();
    const failure: { err?: unknown; failed: boolean } = { failed: false };
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const settled = () => {
      inFlight--;
      const w = wake;
      wake = undefined;
      w?.();
    };
    const below = async (n: number) => {
      while (inFlight >= n) await new Promise<void>((resolve) => (wake = resolve));
    };
    for (let i = 0; i < valid.length; i++) {
      const planned = valid[i]!;
      if (inFlight >= planned.overlap) await below(planned.overlap);
      if (failure.failed) break;
      const key = planned.event.orderingKey;
      const before = key === null ? undefined : byKey.get(key);
      const outcome =
        before === undefined ? this.runEvent(planned) : before.then((prev) => this.runAfter(prev, planned));
      if (key !== null) byKey.set(key, outcome);
      inFlight++;
      if (planned.overlap <= 1) {
        // Runs alone (nothing else in flight): awaited here, no task around it.
        try {
          outcomes[i] = await outcome;
        } catch (err) {
          if (!failure.failed) {
            failure.failed = true;
            failure.err = err;
          }
        }
        settled();
        continue;
      }
      // Overlapping: the loop goes on; the task settles it (never rejects).
      void outcome.then(
        (o) => {
          outcomes[i] = o;
          settled();
        },
        (err: unknown) => {
          if (!failure.failed) {
            failure.failed = true;
            failure.err = err;
          }
          settled();
        },
      );
    }
    if (inFlight >= 1) await below(1);
    if (failure.failed) throw failure.err;
    return outcomes.filter((o): o is Outcome => o !== null);
  }

  /** Runs `planned` after the event of its key before it: only if that one is done. */
  private async runAfter(prev: Outcome | null, planned: Planned): Promise<Outcome | null> {
    if (prev?.kind === "done") return this.runEvent(planned);
    const fresh = await this.freshKeys();
    this.unrun(planned, fresh);
    if (prev === null) {
      this.deferredIds.add(planned.event.id);
      return null;
    }
    return { kind: "released", event: planned.event, error: null };
  }

  /** An event that will not run in this chunk: its fresh key rows are forgotten. */
  private unrun({ event, handlers }: Planned, fresh: Set<string>): void {
    for (const h of handlers) {
      if (fresh.delete(keyOf(h.name, event.idempotencyKey))) this.forget(h.name, event.idempotencyKey);
    }
  }

  /** A lane for one event's overlapping handler runs (scope.ts): reused once that event is done. */
  private takeLane(): ChunkState {
    const lane = this.freeLanes.pop();
    if (lane) return lane;
    const opened = newLane(this.state!.client);
    this.lanes.push(opened);
    return opened;
  }

  /** Runs one event's handlers, or defers or releases it: its outcome, or null when deferred. */
  private async runEvent(planned: Planned): Promise<Outcome | null> {
    const { event, handlers, seen } = planned;
    const env = this.env;
    // Eager start (docs/guarantees.md): on a first attempt, a handler of
    // one exact topic whose key no committed row records (`seen`, from the
    // claim) may run before the insert answers. Its key belongs to this
    // row alone, so a conflict can only come from a transaction still
    // running on another topic's event under the same handler name
    // (another generation); its ctx.tx statements queue behind the
    // insert, and a conflict rolls them back below.
    const eagerEvent = this.fresh === undefined && this.runs === 0 && event.attempt === 1 && seen === false;
    if (!eagerEvent || env.forced.aborted) await this.freshKeys();
    // Over budget (too many subtransactions, or too long a transaction):
    // the rest run in a fresh chunk; their fresh key rows are forgotten.
    if (this.runs > 0 && !env.forced.aborted && this.overBudget()) {
      const fresh = await this.freshKeys();
      this.deferredIds.add(event.id);
      this.unrun(planned, fresh);
      return null;
    }
    if (env.forced.aborted) {
      const fresh = await this.freshKeys();
      for (const h of handlers) {
        if (fresh.has(keyOf(h.name, event.idempotencyKey))) this.forget(h.name, event.idempotencyKey);
      }
      return { kind: "released", event, error: null };
    }
    const started = performance.now();
    const ran: string[] = [];
    const skipped: string[] = [];
    const failures: Failed[] = [];
    const lane = handlers.some(overlaps) ? this.takeLane() : undefined;
    try {
      for (const h of handlers) {
        const state = lane !== undefined && overlaps(h) ? lane : this.state!;
        const r = await this.runOne(h, event, eagerEvent, state);
        if (r === "ran") ran.push(h.name);
        else if (r === "skipped") skipped.push(h.name);
        else failures.push(r);
      }
    } finally {
      if (lane !== undefined) this.freeLanes.push(lane);
    }
    return this.eventOutcome(event, ran, skipped, failures, performance.now() - started);
  }

  private overBudget(): boolean {
    return (
      this.state!.savepoints >= SAVEPOINT_BUDGET || performance.now() - this.started >= CHUNK_TIME_BUDGET_MS
    );
  }

  private forget(handler: string, key: string): void {
    this.failedNames.push(handler);
    this.failedKeys.push(key);
  }

  /**
   * Runs one handler of `event` behind its savepoint (in `state`: the chunk's,
   * or a lane without ctx.tx): ran, skipped (recorded before), or failed.
   */
  private async runOne(
    h: HandlerDefinition,
    event: OutboxEvent,
    eagerEvent: boolean,
    state: ChunkState,
  ): Promise<"ran" | "skipped" | Failed> {
    const env = this.env;
    // Each occurrence is fresh once: a second event with the same key in
    // this chunk (another topic) must see it as handled.
    const k = keyOf(h.name, event.idempotencyKey);
    const eager = this.fresh === undefined && eagerEvent && env.handlers.eager.handlers.has(h);
    if (!eager) await this.freshKeys();
    if (this.fresh !== undefined && !this.fresh.delete(k)) return "skipped";
    let result: RunResult;
    this.runs++;
    try {
      // An eager run's deadline starts when the insert answered: until
      // then its statements wait for the insert, as the handler itself
      // would have waited before starting.
      result = await runHandler(env, state, h, event, eager ? this.recorded : undefined);
    } catch (err) {
      if (err instanceof StuckHandler) this.dropConnection(err);
      throw err;
    }
    const client = state.client;
    // Statements the run issued go to pg before anything of the chunk's.
    await drainAhead(state);
    if (result.took) this.writes++;
    if (eager) {
      this.fresh = await this.recorded;
      if (!this.fresh.delete(k)) {
        // Recorded by another transaction meanwhile: it ran there. Undo
        // what this run wrote; it counts as skipped, not failed.
        if (result.took) await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
        return "skipped";
      }
    }
    if (result.ok) {
      // A handler that wrote is checked through the status of its last
      // statement's ReadyForQuery: no round trip.
      if (!result.took || (await transactionStatus(client)) !== "E") return "ran";
      result = {
        ok: false,
        took: true,
        error: `handler "${h.name}" returned but left its transaction failed (a statement of it failed)`,
        permanent: false,
        interrupted: false,
      };
    }
    // A run that never queried has nothing to roll back.
    if (result.took) await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    this.forget(h.name, event.idempotencyKey);
    return { handler: h, error: result.error, permanent: result.permanent, interrupted: result.interrupted };
  }

  /** A stuck handler's backend was terminated: the connection goes back to the pool destroyed. */
  private dropConnection(stuck: StuckHandler): void {
    this.stuck = stuck;
    const client = this.client!;
    client.off("error", this.onClientError);
    client.release(stuck);
    this.client = undefined;
  }

  private eventOutcome(
    event: OutboxEvent,
    ran: string[],
    skipped: string[],
    failures: Failed[],
    durationMs: number,
  ): Outcome {
    const first = failures[0];
    if (!first) return { kind: "done", event, handlers: ran, skipped, durationMs };
    if (failures.every((f) => f.interrupted)) return { kind: "released", event, error: null };
    const permanent = failures.find((f) => f.permanent);
    const culprit = permanent ?? first;
    return failedOutcome(
      this.env.retry,
      event,
      { by: "handler", permanent: permanent !== undefined },
      culprit.handler,
      `${culprit.handler.name}: ${culprit.error}`,
      ran,
      failures.map((f) => f.handler.name),
    );
  }

  /** Forgets failed runs' keys, writes the fenced completion and release updates, commits. */
  private async commit(): Promise<ChunkResult> {
    const env = this.env;
    const client = this.client!;
    const outcomes = this.outcomes;
    if (this.failedNames.length > 0)
      await corked(client).query(env.sql.deleteHandled, [this.failedNames, this.failedKeys]);
    const fencedOut: string[] = [];
    const doneIds = outcomes.filter((o) => o.kind === "done").map((o) => o.event.id);
    if (doneIds.length > 0 && env.completion === "delete") {
      // The answer names the rows not deleted by me (reaped, maybe finished
      // by another worker): usually none.
      const res = await corked(client).query<{ id: string }>(env.sql.completeDelete, [
        idArrayLiteral(doneIds),
        env.generation,
        env.workerId,
      ]);
      fencedOut.push(...res.rows.map((r) => r.id));
    } else if (doneIds.length > 0) {
      const res = await corked(client).query<{ n: number }>(env.sql.complete, [
        idArrayLiteral(doneIds),
        env.generation,
        env.workerId,
      ]);
      if (res.rows[0]!.n !== doneIds.length) {
        // Some row was no longer mine (reaped, maybe finished by another
        // worker): name them. Rare, so not paid for on every chunk.
        const lost = await client.query<{ id: string }>(env.sql.notCompletedByMe, [
          doneIds,
          env.generation,
          env.workerId,
        ]);
        fencedOut.push(...lost.rows.map((r) => r.id));
      }
    }
    const releases = outcomes.filter((o) => o.kind !== "done");
    if (releases.length > 0) {
      const res = await release(env, client, releases);
      if (res.length !== releases.length) {
        const got = new Set(res);
        fencedOut.push(...releases.map((o) => o.event.id).filter((id) => !got.has(id)));
      }
    }
    await client.query("COMMIT");
    const cost = { runs: this.runs, writes: this.writes, handlerMs: performance.now() - this.started };
    const ids = this.deferredIds;
    const deferred = ids.size > 0 ? this.rows.filter((r) => ids.has(r.id)) : [];
    return { kind: "committed", outcomes, deferred, fencedOut, cost };
  }

  /**
   * Nothing of this chunk committed: roll back, then release every row it
   * holds (fenced; if the database is unreachable the lease expires and a
   * reaper re-pends). Only a stuck handler's own event is charged; a lost
   * connection, a timeout or a shutdown costs no attempt (outcome.ts).
   */
  private async fail(err: unknown): Promise<ChunkResult> {
    const env = this.env;
    await this.rollback(err);
    const stuck = this.stuck;
    if (stuck && !env.forced.aborted) {
      // Only the stuck handler's event is at fault: it alone takes the failed
      // attempt (retry with backoff, or dead). Its chunk-mates lost their
      // transaction through no fault of their own; they are still in flight,
      // claimed by this worker with their attempt counted once, so they run
      // again at once in a fresh chunk (no release, no re-claim, no backoff).
      const isolated = await isolateStuck(env, this.rows, stuck);
      if (isolated) return isolated;
    }
    const chunkFailure: Failure = env.forced.aborted
      ? { by: "shutdown" }
      : isInfrastructureFailure(err)
        ? { by: "infrastructure" }
        : { by: "unknown" };
    const failedOutcomes: Outcome[] = this.events.map((event) => {
      if (stuck && stuck.eventId === event.id) return stuckOutcome(env, event, stuck);
      return failedOutcome(
        env.retry,
        event,
        stuck ? { by: "infrastructure" } : chunkFailure,
        null,
        `chunk failed: ${message(err)}`,
        [],
        [],
      );
    });
    let releasedIds: string[] = [];
    let unreleased: Outcome[] = [];
    try {
      releasedIds = await release(env, env.pool, failedOutcomes);
    } catch (releaseErr) {
      // Still in flight and claimed by this live worker, so no reaper takes them before their
      // lease expires: the consumer retries this release as soon as the database answers again.
      unreleased = failedOutcomes;
      env.logger.warn(
        { err: message(releaseErr), ids: this.events.map((e) => e.id) },
        "could not release a failed chunk; the release is retried once the database answers",
      );
    }
    const got = new Set(releasedIds);
    const error = err ?? new Error(`chunk of ${this.events.length} failed: ${message(err)}`);
    return { kind: "failed", error, outcomes: failedOutcomes.filter((o) => got.has(o.event.id)), unreleased };
  }

  private async rollback(err: unknown): Promise<void> {
    const c = this.client;
    if (!c) return;
    this.client = undefined;
    c.off("error", this.onClientError);
    if (connectionUnusable(err)) {
      // Gone, or no reply in time (a partition): a ROLLBACK would only
      // wait. The server rolls the transaction back when the session ends.
      c.release(err instanceof Error ? err : new Error(String(err)));
    } else {
      // A failed ROLLBACK means the connection is unusable: destroy it.
      await c.query("ROLLBACK").then(
        () => c.release(),
        (e: unknown) => c.release(e instanceof Error ? e : new Error(String(e))),
      );
    }
  }
}

/** The outcome of a stuck handler's event: a failed attempt of that handler. */
function stuckOutcome(env: ChunkEnv, event: OutboxEvent, stuck: StuckHandler): Outcome {
  const handler = env.handlers.for(event.topic).find((h) => h.name === stuck.handler) ?? null;
  return failedOutcome(
    env.retry,
    event,
    { by: "handler", permanent: false },
    handler,
    stuck.message,
    [],
    [stuck.handler],
  );
}

/**
 * Fails the stuck event alone (fenced release through the pool) and re-runs
 * its chunk-mates in a new chunk. Returns null when even the release failed
 * (database unreachable): the caller then releases the whole chunk.
 */
async function isolateStuck(
  env: ChunkEnv,
  rows: ClaimedRow[],
  stuck: StuckHandler,
): Promise<ChunkResult | null> {
  const row = rows.find((r) => r.id === stuck.eventId);
  if (!row) return null;
  const event = toEvent(row);
  const outcome = stuckOutcome(env, event, stuck);
  let released: string[];
  try {
    released = await release(env, env.pool, [outcome]);
  } catch (err) {
    env.logger.warn({ err: message(err), id: event.id }, "could not release the event of a stuck handler");
    return null;
  }
  env.logger.warn(
    { id: event.id, handler: stuck.handler, rerun: rows.length - 1 },
    "a handler did not stop; its event was failed alone and its chunk-mates re-run",
  );
  const own: Outcome[] = released.length === 1 ? [outcome] : [];
  const fenced = released.length === 1 ? [] : [event.id];
  const rest = rows.filter((r) => r.id !== stuck.eventId);
  if (rest.length === 0)
    return { kind: "committed", outcomes: own, deferred: [], fencedOut: fenced, cost: null };
  const res = await processChunk(env, rest);
  if (res.kind === "failed") return { ...res, outcomes: [...own, ...res.outcomes] };
  return { ...res, outcomes: [...own, ...res.outcomes], fencedOut: [...fenced, ...res.fencedOut] };
}
