import type pg from "pg";
import { corked, HANDLER_TX } from "../db.js";
import { CutoverError } from "../errors.js";
import {
  type CatalogLike,
  type HandlerContext,
  type HandlerDefinition,
  isPermanentError,
  type OutboxEvent,
} from "../handler.js";
import { childLogger, type Logger } from "../logger.js";
import { type ProcessSpan, startProcessSpan } from "../telemetry.js";
import { connectionUnusable, decideOutcome, type Failure, isInfrastructureFailure } from "./outcome.js";
import type { ClaimedRow, Statements } from "./sql.js";

/** How long a timed-out or aborted handler gets to settle before its query is cancelled, then its backend terminated. */
export const HANDLER_GRACE_MS = 500;

const SAVEPOINT = "cutover_handler";

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

export interface ChunkEnv {
  pool: pg.Pool;
  sql: Statements;
  generation: number;
  workerId: string;
  handlersFor(topic: string): readonly HandlerDefinition[];
  /** Handlers whose first-attempt run may start before the chunk's event_handled insert answers. */
  eager: ReadonlySet<HandlerDefinition>;
  events: CatalogLike | undefined;
  handlerTimeoutMs: number;
  /** Idle, statement and lock timeout of a chunk transaction (bounds.ts), set by its first statement. */
  sessionMs: number;
  maxAttemptsFor(topic: string, handler: HandlerDefinition | null): number;
  backoffMs(attempt: number): number;
  logger: Logger;
  /** Aborted when stop() ran out of time: running handlers are aborted, the rest released. */
  forced: AbortSignal;
  duration(ms: number): void;
  /** What a chunk's handler runs cost: runs, runs that wrote (took a savepoint), handler time. */
  observe(runs: number, writes: number, handlerMs: number): void;
}

export interface HandlerRun {
  handler: string;
  ok: boolean;
  error?: string;
}

export type Outcome =
  | { kind: "done"; event: OutboxEvent; handlers: string[]; skipped: string[]; durationMs: number }
  | {
      kind: "retry" | "dead";
      event: OutboxEvent;
      handler: string | null;
      error: string;
      retryInMs: number | null;
      /** Successful runs of other handlers of this event (recorded; they will not run again). */
      succeeded: string[];
      failedHandlers: string[];
    }
  | { kind: "released"; event: OutboxEvent; error: string | null };

export interface ChunkResult {
  outcomes: Outcome[];
  /**
   * Rows not started because the chunk reached its savepoint or time budget:
   * still in flight and claimed by this worker, their attempt counted once;
   * the caller runs them in a fresh chunk.
   */
  deferred: ClaimedRow[];
  /** Ids whose fenced update found the row no longer mine (reaped and re-claimed meanwhile). */
  fencedOut: string[];
  committed: boolean;
}

export function toEvent(row: ClaimedRow): OutboxEvent {
  return {
    id: row.id,
    topic: row.topic,
    payload: row.payload,
    headers: row.headers ?? {},
    idempotencyKey: row.idempotency_key,
    orderingKey: row.ordering_key,
    tenant: row.tenant,
    generation: row.generation,
    attempt: row.attempts,
    createdAt: row.created_at,
  };
}

function message(err: unknown): string {
  const text =
    err instanceof Error ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}` : String(err);
  return text.length > 2000 ? `${text.slice(0, 2000)}...` : text;
}

class StuckHandler extends Error {
  constructor(
    readonly handler: string,
    readonly eventId: string,
    readonly reason: string,
  ) {
    super(`handler "${handler}" ${reason} and did not stop; its connection was terminated`);
  }
}

type RunResult =
  | { ok: true; took: boolean }
  | { ok: false; took: boolean; error: string; permanent: boolean; interrupted: boolean };

function settleWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** What the handler runs of one chunk share: its connection, its savepoint, one deadline timer. */
interface ChunkState {
  client: pg.PoolClient;
  /** A savepoint taken by an earlier successful run is still open; the next run that writes releases it. */
  held: boolean;
  /** Savepoints taken in this transaction (subtransactions). */
  savepoints: number;
  /** The running handler's deadline and how to interrupt it. */
  current: { deadline: number; interrupt: (why: "timeout" | "forced") => void } | null;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
  /**
   * The chunk's own statement still in flight on this connection (the key
   * insert, a savepoint). A handler's statement is handed to pg once it
   * settled rather than queued inside pg while it runs (a deprecated pg
   * feature, to be removed in pg 9): same order, same connection.
   */
  ahead: Promise<unknown> | undefined;
}

/** Sends `send` after the statement ahead of it on the chunk's connection settled (whatever its outcome). */
function behind<T>(state: ChunkState, send: () => T): T | Promise<T> {
  const ahead = state.ahead;
  return ahead ? ahead.then(send, send) : send();
}

/**
 * Waits until every statement queued behind `ahead` has been handed to pg
 * (and what was ahead has settled): the chunk's own statements after a run
 * (ROLLBACK TO, the status check, the next savepoint, COMMIT) then follow
 * the run's statements on the connection, never overtake them.
 */
async function drainAhead(state: ChunkState): Promise<void> {
  while (state.ahead) await state.ahead;
}

/** Records `p` as the statement ahead until it settles. */
function setAhead(state: ChunkState, p: Promise<unknown>): void {
  const tracked = p.then(
    () => {
      if (state.ahead === tracked) state.ahead = undefined;
    },
    () => {
      if (state.ahead === tracked) state.ahead = undefined;
    },
  );
  state.ahead = tracked;
}

/**
 * One timer per chunk, not per handler run: it is re-armed only when it
 * fires before the current run's deadline or a run's deadline is earlier
 * than the armed one.
 */
function arm(state: ChunkState, deadline: number): void {
  // An eager run has no deadline until its insert answered.
  if (!Number.isFinite(deadline)) return;
  if (state.timer !== undefined && state.timerAt <= deadline) return;
  clearTimeout(state.timer);
  state.timerAt = deadline;
  state.timer = setTimeout(() => fire(state), Math.max(0, Math.ceil(deadline - performance.now())));
}

function fire(state: ChunkState): void {
  state.timer = undefined;
  const run = state.current;
  if (!run) return;
  if (run.deadline <= performance.now()) run.interrupt("timeout");
  else arm(state, run.deadline);
}

type QueryFn = (...args: unknown[]) => unknown;

/**
 * The `ctx.tx` of one handler run: the chunk's client, with the run's
 * savepoint taken lazily on its first query (queued ahead of it on the same
 * connection, so it costs no extra wait) and every query refused once the
 * run has ended. A handler that never queries pays no savepoint at all.
 */
class TxScope {
  took = false;
  revoked = false;
  /** Queries issued and not settled; `untracked` when one was a submittable (cursor, stream). */
  outstanding = 0;
  untracked = false;
  readonly tx: pg.PoolClient;

  constructor(state: ChunkState, handler: string) {
    const client = state.client;
    const raw = client.query as unknown as QueryFn;
    let bound: Map<PropertyKey, unknown> | undefined;
    const settle = () => {
      this.outstanding--;
    };
    const query: QueryFn = (...args) => {
      const last = args[args.length - 1];
      if (this.revoked) {
        const err = new CutoverError(
          "HANDLER_TX_CLOSED",
          `handler "${handler}" used ctx.tx after its run ended (settled, timed out or aborted)`,
          { details: { handler } },
        );
        if (typeof last === "function") {
          queueMicrotask(() => (last as (e: Error) => void)(err));
          return undefined;
        }
        return Promise.reject(err);
      }
      if (!this.took) {
        this.took = true;
        const sp = state.held
          ? `RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}`
          : `SAVEPOINT ${SAVEPOINT}`;
        state.held = true;
        state.savepoints++;
        // If it fails, the handler's own statement (sent behind it) fails too.
        setAhead(state, Promise.resolve(behind(state, () => client.query(sp) as Promise<unknown>)));
      }
      const send = () => raw.apply(client, args);
      const first = args[0];
      if (
        typeof first === "object" &&
        first !== null &&
        typeof (first as { submit?: unknown }).submit === "function"
      ) {
        // pg returns the submittable itself; it is submitted once the connection is ours.
        this.untracked = true;
        if (!state.ahead) return send();
        const submitted = behind(state, send) as Promise<unknown>;
        submitted.catch((err: unknown) => {
          (first as { emit?: (e: string, err: unknown) => void }).emit?.("error", err);
        });
        setAhead(state, submitted);
        return first;
      }
      this.outstanding++;
      if (typeof last === "function") {
        const callback = (...r: unknown[]) => {
          settle();
          (last as (...a: unknown[]) => void)(...r);
        };
        args[args.length - 1] = callback;
        if (!state.ahead) return send();
        const sent = behind(state, send) as Promise<unknown>;
        // pg threw instead of calling back (e.g. a null query): the callback gets the error.
        sent.catch((err: unknown) => callback(err));
        setAhead(state, sent);
        return undefined;
      }
      if (!state.ahead) {
        const p = send() as Promise<unknown>;
        p.then(settle, settle);
        return p;
      }
      // Sent once the statement ahead settled; the chunk's own statements
      // after this run wait for it (drainAhead), so a ROLLBACK TO or COMMIT
      // can never overtake a statement the handler issued during its run.
      const p = behind(state, send) as Promise<unknown>;
      p.then(settle, settle);
      setAhead(state, p);
      return p;
    };
    this.tx = new Proxy(client, {
      get(target, prop) {
        if (prop === "query") return query;
        // Always in the chunk's transaction: the publisher need not ask pg (after the run,
        // query() itself refuses with HANDLER_TX_CLOSED; pg would say "idle").
        if (prop === HANDLER_TX) return true;
        const v = Reflect.get(target, prop, target);
        if (typeof v !== "function") return v;
        bound ??= new Map();
        let b = bound.get(prop);
        if (!b) {
          b = (v as QueryFn).bind(target);
          bound.set(prop, b);
        }
        return b;
      },
    });
  }

  /** The handler may still be waiting on this connection. */
  busy(): boolean {
    return this.outstanding > 0 || this.untracked;
  }
}

/** One handler run inside its `process <topic>` span (telemetry.ts), ended with the run's result. */
async function runHandler(
  env: ChunkEnv,
  state: ChunkState,
  handler: HandlerDefinition,
  event: OutboxEvent,
  deadlineFrom?: Promise<unknown>,
): Promise<RunResult> {
  const span = startProcessSpan(event, handler.name);
  try {
    const result = await runHandlerIn(span, env, state, handler, event, deadlineFrom);
    if (!result.ok) {
      span.end(result.error);
    } else if (result.took) {
      // The caller fails a run that returned but left its transaction failed;
      // its span says so too. Same wait and check as the caller's, done first.
      await drainAhead(state);
      const failed = (await transactionStatus(state.client)) === "E";
      span.end(failed ? "returned but left its transaction failed (a statement of it failed)" : undefined);
    } else {
      span.end();
    }
    return result;
  } catch (err) {
    span.end(message(err));
    throw err;
  }
}

/** The fields of a handler's ctx.logger: what joins its lines to the event, its trace and its tenant. */
function logBindings(span: ProcessSpan, handler: string, event: OutboxEvent): Record<string, unknown> {
  const b: Record<string, unknown> = {
    event_id: event.id,
    topic: event.topic,
    generation: event.generation,
    handler,
    attempt: event.attempt,
  };
  if (span.ids) {
    b.trace_id = span.ids.trace_id;
    b.span_id = span.ids.span_id;
  }
  if (event.tenant !== null) b.tenant = event.tenant;
  return b;
}

async function runHandlerIn(
  span: ProcessSpan,
  env: ChunkEnv,
  state: ChunkState,
  handler: HandlerDefinition,
  event: OutboxEvent,
  deadlineFrom?: Promise<unknown>,
): Promise<RunResult> {
  const timeoutMs = handler.timeoutMs ?? env.handlerTimeoutMs;
  const scope = new TxScope(state, handler.name);
  // The AbortController exists only once the handler reads ctx.signal.
  let ac: AbortController | undefined;
  let abortReason: Error | undefined;
  // Built on first use: most handlers never log.
  let logger: Logger | undefined;
  const ctx: HandlerContext = {
    tx: scope.tx,
    get signal() {
      if (!ac) {
        ac = new AbortController();
        if (abortReason) ac.abort(abortReason);
      }
      return ac.signal;
    },
    workerId: env.workerId,
    get logger() {
      logger ??= childLogger(env.logger, logBindings(span, handler.name, event));
      return logger;
    },
  };
  let interrupt!: (why: "timeout" | "forced") => void;
  const interrupted = new Promise<"timeout" | "forced">((resolve) => {
    interrupt = resolve;
  });
  const current = {
    deadline: deadlineFrom ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs,
    interrupt,
  };
  state.current = current;
  if (deadlineFrom) {
    const start = () => {
      if (state.current !== current) return;
      current.deadline = performance.now() + timeoutMs;
      arm(state, current.deadline);
    };
    deadlineFrom.then(start, start);
  } else {
    arm(state, current.deadline);
  }
  if (env.forced.aborted) interrupt("forced");
  const started = performance.now();
  const run = span.run(async () => handler.handle(event, ctx));
  try {
    const first = await Promise.race([
      run.then(
        () => ({ kind: "ok" as const }),
        (error: unknown) => ({ kind: "error" as const, error }),
      ),
      interrupted.then((why) => ({ kind: why })),
    ]);
    if (first.kind === "ok") return { ok: true, took: scope.took };
    if (first.kind === "error") {
      return {
        ok: false,
        took: scope.took,
        error: message(first.error),
        permanent: isPermanentError(first.error),
        interrupted: env.forced.aborted,
      };
    }
    state.current = null;
    const reason =
      first.kind === "timeout" ? `timed out after ${timeoutMs} ms` : "was aborted by a forced shutdown";
    abortReason = new Error(`handler ${reason}`);
    ac?.abort(abortReason);
    let settled = await settleWithin(run, HANDLER_GRACE_MS);
    if (!settled) {
      // From now on the handler cannot start a statement on this connection.
      scope.revoked = true;
      const pid = (state.client as unknown as { processID?: number }).processID;
      if (scope.busy() && pid) {
        // Waiting on a query in this transaction: cancel it, so the handler
        // fails and the savepoint can be rolled back.
        void env.pool.query("SELECT pg_cancel_backend($1)", [pid]).catch(() => {});
        settled = await settleWithin(run, HANDLER_GRACE_MS);
      }
      if (!settled && scope.busy()) {
        // It still holds a statement on the connection: the transaction
        // cannot be trusted. Terminate its backend so its locks go away.
        if (pid)
          await settleWithin(env.pool.query("SELECT pg_terminate_backend($1)", [pid]), HANDLER_GRACE_MS);
        throw new StuckHandler(handler.name, event.id, reason);
      }
      if (!settled) {
        // Stuck outside the database and cut off from it: abandon it; the
        // savepoint is rolled back and the chunk goes on.
        return {
          ok: false,
          took: scope.took,
          error: `handler ${reason} and did not stop; it was abandoned (its ctx.tx is closed)`,
          permanent: false,
          interrupted: first.kind === "forced",
        };
      }
    }
    return {
      ok: false,
      took: scope.took,
      error: `handler ${reason}`,
      permanent: false,
      interrupted: first.kind === "forced",
    };
  } finally {
    if (state.current === current) state.current = null;
    scope.revoked = true;
    env.duration(performance.now() - started);
  }
}

/** A pooled connection with a transaction already begun, and the listener guarding it meanwhile. */
export interface OpenedChunk {
  client: pg.PoolClient;
  onError: (err: Error) => void;
}

/**
 * Checks out a connection and sends BEGIN, for a chunk whose rows are still
 * being claimed. Never rejects: on any failure it resolves undefined and the
 * chunk opens its own. Until the chunk adopts it, an error listener keeps a
 * dropped connection from becoming an unhandled 'error' event.
 */
export async function openChunkTransaction(pool: pg.Pool): Promise<OpenedChunk | undefined> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch {
    return undefined;
  }
  const onError = () => {};
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    return { client, onError };
  } catch (err) {
    client.off("error", onError);
    client.release(err instanceof Error ? err : new Error(String(err)));
    return undefined;
  }
}

/** Rolls back and returns an opened chunk transaction that found nothing to run. */
export async function discardChunkTransaction(opening: Promise<OpenedChunk | undefined>): Promise<void> {
  const opened = await opening;
  if (!opened) return;
  const { client, onError } = opened;
  try {
    await client.query("ROLLBACK");
    client.off("error", onError);
    client.release();
  } catch (err) {
    client.off("error", onError);
    client.release(err instanceof Error ? err : new Error(String(err)));
  }
}

/**
 * Processes one chunk of claimed rows in ONE transaction on one connection:
 * the (handler, key) rows are inserted first (a conflict = ran already, skip),
 * each handler runs behind a savepoint (rolled back if it fails), and the
 * fenced done/retry/dead updates commit in the same transaction, so a
 * handler's writes, its event_handled row and the event's new status commit
 * together or not at all.
 */
export async function processChunk(
  env: ChunkEnv,
  rows: ClaimedRow[],
  opened?: Promise<OpenedChunk | undefined>,
): Promise<ChunkResult> {
  const outcomes: Outcome[] = [];
  const events = rows.map(toEvent);
  let client: pg.PoolClient | undefined;
  let destroyed: Error | undefined;
  // A checked-out client has no pool error listener: without this, a
  // connection dropped between two statements (database restart) would be an
  // unhandled 'error' event. The next statement on it fails and is handled.
  const onClientError = (err: Error) => env.logger.warn({ err: err.message }, "chunk connection lost");
  let state: ChunkState | undefined;
  let onForced: (() => void) | undefined;
  try {
    const pre = opened ? await opened : undefined;
    if (pre) {
      // Opened (BEGIN sent) while the rows were being claimed.
      client = pre.client;
      client.on("error", onClientError);
      client.off("error", pre.onError);
    } else {
      client = await env.pool.connect();
      client.on("error", onClientError);
      await client.query("BEGIN");
    }
    const valid: Array<{ event: OutboxEvent; handlers: readonly HandlerDefinition[]; seen: boolean | null }> =
      [];
    const invalid: Outcome[] = [];
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
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
      valid.push({ event, handlers: env.handlersFor(event.topic), seen: rows[i]!.seen });
    }
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
    // Every (handler, key) of the chunk is fresh except those the insert
    // reports as already recorded (usually none, so little comes back). The
    // insert goes out now; its answer is awaited before anything depends on
    // it, except by the chunk's first handler run when that run is eager.
    state = {
      client,
      held: false,
      savepoints: 0,
      current: null,
      timer: undefined,
      timerAt: 0,
      ahead: undefined,
    };
    const chunk = state;
    let recorded = Promise.resolve(new Set<string>());
    if (names.length > 0) {
      const insert = corked(client).query<{ handler_name: string; idempotency_key: string }>(
        env.sql.insertHandled,
        [names, keys, ids, env.generation, env.workerId, String(env.sessionMs)],
      );
      setAhead(state, insert);
      recorded = insert.then((res) => {
        const f = new Set<string>();
        for (let i = 0; i < names.length; i++) f.add(`${names[i]}\u0000${keys[i]}`);
        for (const r of res.rows) f.delete(`${r.handler_name}\u0000${r.idempotency_key}`);
        return f;
      });
    }
    // Awaited below; if it fails the chunk fails there.
    recorded.catch(() => {});
    let fresh: Set<string> | undefined;
    onForced = () => chunk.current?.interrupt("forced");
    env.forced.addEventListener("abort", onForced, { once: true });
    const failedNames: string[] = [];
    const failedKeys: string[] = [];
    const deferredIds = new Set<string>();
    const chunkStarted = performance.now();
    let runs = 0;
    let writes = 0;
    for (const { event, handlers, seen } of valid) {
      // Eager start (docs/guarantees.md): on a first attempt, a handler of
      // one exact topic whose key no committed row records (`seen`, from the
      // claim) may run before the insert answers. Its key belongs to this
      // row alone, so a conflict can only come from a transaction still
      // running on another topic's event under the same handler name
      // (another generation); its ctx.tx statements queue behind the
      // insert, and a conflict rolls them back below.
      const eagerEvent = fresh === undefined && runs === 0 && event.attempt === 1 && seen === false;
      if (!eagerEvent || env.forced.aborted) fresh ??= await recorded;
      // Over budget (too many subtransactions, or too long a transaction):
      // the rest run in a fresh chunk; their fresh key rows are forgotten.
      if (
        runs > 0 &&
        !env.forced.aborted &&
        (state.savepoints >= SAVEPOINT_BUDGET || performance.now() - chunkStarted >= CHUNK_TIME_BUDGET_MS)
      ) {
        fresh ??= await recorded;
        deferredIds.add(event.id);
        for (const h of handlers) {
          if (fresh.delete(`${h.name}\u0000${event.idempotencyKey}`)) {
            failedNames.push(h.name);
            failedKeys.push(event.idempotencyKey);
          }
        }
        continue;
      }
      if (env.forced.aborted) {
        fresh ??= await recorded;
        outcomes.push({ kind: "released", event, error: null });
        for (const h of handlers) {
          if (fresh.has(`${h.name}\u0000${event.idempotencyKey}`)) {
            failedNames.push(h.name);
            failedKeys.push(event.idempotencyKey);
          }
        }
        continue;
      }
      const started = performance.now();
      const ran: string[] = [];
      const skipped: string[] = [];
      const failures: Array<{
        handler: HandlerDefinition;
        error: string;
        permanent: boolean;
        interrupted: boolean;
      }> = [];
      for (const h of handlers) {
        // Each occurrence is fresh once: a second event with the same key in
        // this chunk (another topic) must see it as handled.
        const k = `${h.name}\u0000${event.idempotencyKey}`;
        const eager = fresh === undefined && eagerEvent && env.eager.has(h);
        if (!eager) fresh ??= await recorded;
        if (fresh !== undefined && !fresh.delete(k)) {
          skipped.push(h.name);
          continue;
        }
        let result: RunResult;
        runs++;
        try {
          // An eager run's deadline starts when the insert answered: until
          // then its statements wait for the insert, as the handler itself
          // would have waited before starting.
          result = await runHandler(env, state, h, event, eager ? recorded : undefined);
        } catch (err) {
          if (err instanceof StuckHandler) {
            destroyed = err;
            client.off("error", onClientError);
            client.release(err);
            client = undefined;
          }
          throw err;
        }
        // Statements the run issued go to pg before anything of the chunk's.
        await drainAhead(state);
        if (result.took) writes++;
        if (eager) {
          fresh = await recorded;
          if (!fresh.delete(k)) {
            // Recorded by another transaction meanwhile: it ran there. Undo
            // what this run wrote; it counts as skipped, not failed.
            if (result.took) await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
            skipped.push(h.name);
            continue;
          }
        }
        if (result.ok) {
          // A handler that wrote is checked through the status of its last
          // statement's ReadyForQuery: no round trip.
          if (!result.took || (await transactionStatus(client)) !== "E") {
            ran.push(h.name);
            continue;
          }
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
        failedNames.push(h.name);
        failedKeys.push(event.idempotencyKey);
        failures.push({
          handler: h,
          error: result.error,
          permanent: result.permanent,
          interrupted: result.interrupted,
        });
      }
      const durationMs = performance.now() - started;
      const first = failures[0];
      if (!first) {
        outcomes.push({ kind: "done", event, handlers: ran, skipped, durationMs });
      } else if (failures.every((f) => f.interrupted)) {
        outcomes.push({ kind: "released", event, error: null });
      } else {
        const permanent = failures.find((f) => f.permanent);
        const culprit = permanent ?? first;
        outcomes.push(
          failedOutcome(
            env,
            event,
            { by: "handler", permanent: permanent !== undefined },
            culprit.handler,
            `${culprit.handler.name}: ${culprit.error}`,
            ran,
            failures.map((f) => f.handler.name),
          ),
        );
      }
    }
    outcomes.push(...invalid);
    if (failedNames.length > 0) await corked(client).query(env.sql.deleteHandled, [failedNames, failedKeys]);
    const fencedOut: string[] = [];
    const doneIds = outcomes.filter((o) => o.kind === "done").map((o) => o.event.id);
    if (doneIds.length > 0) {
      const res = await corked(client).query<{ n: number }>(env.sql.complete, [
        doneIds,
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
    env.observe(runs, writes, performance.now() - chunkStarted);
    const deferred = deferredIds.size > 0 ? rows.filter((r) => deferredIds.has(r.id)) : [];
    return { outcomes, deferred, fencedOut, committed: true };
  } catch (err) {
    if (client) {
      const c = client;
      client = undefined;
      c.off("error", onClientError);
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
    const stuck = destroyed instanceof StuckHandler ? destroyed : undefined;
    if (stuck && !env.forced.aborted) {
      // Only the stuck handler's event is at fault: it alone takes the failed
      // attempt (retry with backoff, or dead). Its chunk-mates lost their
      // transaction through no fault of their own; they are still in flight,
      // claimed by this worker with their attempt counted once, so they run
      // again at once in a fresh chunk (no release, no re-claim, no backoff).
      const isolated = await isolateStuck(env, rows, stuck);
      if (isolated) return isolated;
    }
    // Nothing of this chunk committed: release every row it holds (fenced;
    // if the database is unreachable the lease expires and a reaper
    // re-pends). Only a stuck handler's own event is charged; a lost
    // connection, a timeout or a shutdown costs no attempt (outcome.ts).
    const chunkFailure: Failure = env.forced.aborted
      ? { by: "shutdown" }
      : isInfrastructureFailure(err)
        ? { by: "infrastructure" }
        : { by: "unknown" };
    const failedOutcomes: Outcome[] = events.map((event) => {
      if (stuck && stuck.eventId === event.id) {
        const handler = env.handlersFor(event.topic).find((h) => h.name === stuck.handler) ?? null;
        return failedOutcome(
          env,
          event,
          { by: "handler", permanent: false },
          handler,
          stuck.message,
          [],
          [stuck.handler],
        );
      }
      return failedOutcome(
        env,
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
        { err: message(releaseErr), ids: events.map((e) => e.id) },
        "could not release a failed chunk; the release is retried once the database answers",
      );
    }
    const got = new Set(releasedIds);
    const error = Object.assign(new Error(`chunk of ${events.length} failed: ${message(err)}`), {
      cause: err,
      outcomes: failedOutcomes.filter((o) => got.has(o.event.id)),
      unreleased,
    });
    throw error;
  } finally {
    if (state) clearTimeout(state.timer);
    if (onForced) env.forced.removeEventListener("abort", onForced);
    client?.off("error", onClientError);
    client?.release();
  }
}

/**
 * 'T' in a transaction, 'E' in a failed one (pg >= 8.23 records it from every
 * ReadyForQuery). pg rejects a failed statement on its ErrorResponse, before
 * the ReadyForQuery that carries 'E': wait for it ('drain') when it has not
 * arrived yet. Usually it came in the same packet, so there is no wait.
 */
async function transactionStatus(client: pg.PoolClient): Promise<string | null> {
  const c = client as unknown as {
    getTransactionStatus?: () => string | null;
    readyForQuery?: boolean;
  };
  if (!c.getTransactionStatus) return "E";
  if (c.readyForQuery === false) await new Promise((resolve) => client.once("drain", resolve));
  return c.getTransactionStatus();
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
  const handler = env.handlersFor(event.topic).find((h) => h.name === stuck.handler) ?? null;
  const outcome = failedOutcome(
    env,
    event,
    { by: "handler", permanent: false },
    handler,
    stuck.message,
    [],
    [stuck.handler],
  );
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
  if (rest.length === 0) return { outcomes: own, deferred: [], fencedOut: fenced, committed: true };
  try {
    const res = await processChunk(env, rest);
    return {
      outcomes: [...own, ...res.outcomes],
      deferred: res.deferred,
      fencedOut: [...fenced, ...res.fencedOut],
      committed: res.committed,
    };
  } catch (err) {
    const e = err as { outcomes?: Outcome[] };
    e.outcomes = [...own, ...(e.outcomes ?? [])];
    throw err;
  }
}

/**
 * The outcome of an event that did not end done: charged (retry after a
 * backoff, or dead at its limit) only when a handler failed; otherwise
 * released with its attempt given back (decideOutcome).
 */
function failedOutcome(
  env: ChunkEnv,
  event: OutboxEvent,
  failure: Failure,
  handler: HandlerDefinition | null,
  error: string,
  succeeded: string[],
  failedHandlers: string[],
): Outcome {
  const d = decideOutcome(failure, event.attempt, {
    maxAttempts: env.maxAttemptsFor(event.topic, handler),
    backoffMs: env.backoffMs,
  });
  if (d.kind === "released") {
    // A shutdown's release records no error: nothing went wrong with the event.
    return { kind: "released", event, error: failure.by === "shutdown" ? null : error };
  }
  return {
    kind: d.kind,
    event,
    handler: handler?.name ?? null,
    error,
    retryInMs: d.kind === "retry" ? d.retryInMs : null,
    succeeded,
    failedHandlers,
  };
}

/**
 * The fenced release of non-done outcomes (pending again, or dead): only rows still in flight,
 * of this generation, claimed by this worker. Returns the ids it released.
 */
export async function release(
  env: Pick<ChunkEnv, "sql" | "generation" | "workerId">,
  db: pg.PoolClient | pg.Pool,
  outcomes: Outcome[],
): Promise<string[]> {
  const ids: string[] = [];
  const statuses: string[] = [];
  const delays: number[] = [];
  const errors: Array<string | null> = [];
  const uncount: number[] = [];
  for (const o of outcomes) {
    if (o.kind === "done") continue;
    ids.push(o.event.id);
    if (o.kind === "released") {
      statuses.push("pending");
      delays.push(0);
      errors.push(o.error);
      uncount.push(1);
    } else {
      statuses.push(o.kind === "dead" ? "dead" : "pending");
      delays.push(Math.round(o.retryInMs ?? 0));
      errors.push(o.error);
      uncount.push(0);
    }
  }
  if (ids.length === 0) return [];
  const res = await corked(db).query<{ id: string }>(env.sql.release, [
    ids,
    statuses,
    delays,
    errors,
    uncount,
    env.generation,
    env.workerId,
  ]);
  return res.rows.map((r) => r.id);
}
