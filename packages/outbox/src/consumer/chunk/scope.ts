/**
 * The chunk's transaction and the savepoint scope of each handler run: the
 * connection the chunk's statements and its handlers' `ctx.tx` statements
 * share, in order (a handler's statement never overtaken by the chunk's
 * ROLLBACK TO or COMMIT), the savepoint a run takes lazily on its first
 * query, and the transaction opened ahead of a claim.
 */
import type pg from "pg";
import { HANDLER_TX } from "../../db.js";
import { CutoverError } from "../../errors.js";

export const SAVEPOINT = "cutover_handler";

/**
 * What the handler runs of one chunk share: its connection, its savepoint, one
 * deadline timer. Runs of handlers with `maxInFlight` > 1 each go through a
 * lane of their own instead (`newLane`): the same connection, no `ctx.tx`, its
 * own running handler and deadline timer, so lanes may overlap.
 */
export interface ChunkState {
  client: pg.PoolClient;
  /** False in a lane: `ctx.tx` refuses every statement (the handler declared maxInFlight > 1). */
  tx: boolean;
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

export function newChunkState(client: pg.PoolClient, tx = true): ChunkState {
  return {
    client,
    tx,
    held: false,
    savepoints: 0,
    current: null,
    timer: undefined,
    timerAt: 0,
    ahead: undefined,
  };
}

/**
 * A lane of a chunk: the runs of one event's handlers with maxInFlight > 1,
 * on the chunk's connection but with no ctx.tx (nothing of theirs goes on
 * it), so several lanes run at once, each with its own running handler and
 * deadline timer (run-handler.ts).
 */
export function newLane(client: pg.PoolClient): ChunkState {
  return newChunkState(client, false);
}

/** Sends `send` after the statement ahead of it on the chunk's connection settled (whatever its outcome). */
export function behind<T>(state: ChunkState, send: () => T): T | Promise<T> {
  const ahead = state.ahead;
  return ahead ? ahead.then(send, send) : send();
}

/**
 * Waits until every statement queued behind `ahead` has been handed to pg
 * (and what was ahead has settled): the chunk's own statements after a run
 * (ROLLBACK TO, the status check, the next savepoint, COMMIT) then follow
 * the run's statements on the connection, never overtake them.
 */
export async function drainAhead(state: ChunkState): Promise<void> {
  while (state.ahead) await state.ahead;
}

/** Records `p` as the statement ahead until it settles. */
export function setAhead(state: ChunkState, p: Promise<unknown>): void {
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

type QueryFn = (...args: unknown[]) => unknown;

/**
 * The `ctx.tx` of one handler run: the chunk's client, with the run's
 * savepoint taken lazily on its first query (queued ahead of it on the same
 * connection, so it costs no extra wait) and every query refused once the
 * run has ended. A handler that never queries pays no savepoint at all.
 */
export class TxScope {
  took = false;
  revoked = false;
  /** Queries issued and not settled; `untracked` when one was a submittable (cursor, stream). */
  outstanding = 0;
  untracked = false;
  readonly tx: pg.PoolClient;
  private readonly raw: QueryFn;
  private readonly settle = () => {
    this.outstanding--;
  };

  constructor(
    private readonly state: ChunkState,
    private readonly handler: string,
  ) {
    const client = state.client;
    this.raw = client.query as unknown as QueryFn;
    const query: QueryFn = (...args) => this.query(args);
    let bound: Map<PropertyKey, unknown> | undefined;
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

  /** `ctx.tx.query(...)`: refused once the run ended; else behind the savepoint and the statement ahead. */
  private query(args: unknown[]): unknown {
    const last = args[args.length - 1];
    if (this.revoked || !this.state.tx) return this.refuse(args[0], last);
    if (!this.took) this.takeSavepoint();
    const state = this.state;
    const client = state.client;
    const send = () => this.raw.apply(client, args);
    const first = args[0];
    if (
      typeof first === "object" &&
      first !== null &&
      typeof (first as { submit?: unknown }).submit === "function"
    ) {
      return this.submit(first, send);
    }
    this.outstanding++;
    if (typeof last === "function") return this.withCallback(args, last as (...a: unknown[]) => void, send);
    if (!state.ahead) {
      const p = send() as Promise<unknown>;
      p.then(this.settle, this.settle);
      return p;
    }
    // Sent once the statement ahead settled; the chunk's own statements
    // after this run wait for it (drainAhead), so a ROLLBACK TO or COMMIT
    // can never overtake a statement the handler issued during its run.
    const p = behind(state, send) as Promise<unknown>;
    p.then(this.settle, this.settle);
    setAhead(state, p);
    return p;
  }

  /**
   * HANDLER_TX_CLOSED: thrown for a submittable (a QueryStream or Cursor is
   * used synchronously, so a rejected promise in its place would go unhandled
   * and end the process), else to the callback or as a rejected promise.
   */
  private refuse(first: unknown, last: unknown): unknown {
    const handler = this.handler;
    const err = this.state.tx
      ? new CutoverError(
          "HANDLER_TX_CLOSED",
          `handler "${handler}" used ctx.tx after its run ended (settled, timed out or aborted)`,
          { details: { handler } },
        )
      : new CutoverError(
          "HANDLER_TX_CLOSED",
          `handler "${handler}" used ctx.tx, but it sets maxInFlight above 1: its runs overlap, so it has no ctx.tx (write through a connection of your own, or drop maxInFlight to write exactly once through ctx.tx)`,
          { details: { handler, option: "maxInFlight" } },
        );
    if (
      typeof first === "object" &&
      first !== null &&
      typeof (first as { submit?: unknown }).submit === "function"
    ) {
      throw err;
    }
    if (typeof last === "function") {
      queueMicrotask(() => (last as (e: Error) => void)(err));
      return undefined;
    }
    return Promise.reject(err);
  }

  /** The run's savepoint, queued ahead of its first statement (releasing an earlier run's). */
  private takeSavepoint(): void {
    const state = this.state;
    this.took = true;
    const sp = state.held
      ? `RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}`
      : `SAVEPOINT ${SAVEPOINT}`;
    state.held = true;
    state.savepoints++;
    // If it fails, the handler's own statement (sent behind it) fails too.
    setAhead(state, Promise.resolve(behind(state, () => state.client.query(sp) as Promise<unknown>)));
  }

  /** A submittable (cursor, stream): pg returns it itself; it is submitted once the connection is ours. */
  private submit(first: object, send: () => unknown): unknown {
    const state = this.state;
    this.untracked = true;
    if (!state.ahead) return send();
    const submitted = behind(state, send) as Promise<unknown>;
    submitted.catch((err: unknown) => {
      (first as { emit?: (e: string, err: unknown) => void }).emit?.("error", err);
    });
    setAhead(state, submitted);
    return first;
  }

  /** The callback form: settles the count before the handler's callback runs. */
  private withCallback(args: unknown[], last: (...a: unknown[]) => void, send: () => unknown): unknown {
    const state = this.state;
    const callback = (...r: unknown[]) => {
      this.settle();
      last(...r);
    };
    args[args.length - 1] = callback;
    if (!state.ahead) return send();
    const sent = behind(state, send) as Promise<unknown>;
    // pg threw instead of calling back (e.g. a null query): the callback gets the error.
    sent.catch((err: unknown) => callback(err));
    setAhead(state, sent);
    return undefined;
  }
}

/**
 * 'T' in a transaction, 'E' in a failed one (pg >= 8.23 records it from every
 * ReadyForQuery). pg rejects a failed statement on its ErrorResponse, before
 * the ReadyForQuery that carries 'E': wait for it ('drain') when it has not
 * arrived yet. Usually it came in the same packet, so there is no wait.
 */
export async function transactionStatus(client: pg.PoolClient): Promise<string | null> {
  const c = client as unknown as {
    getTransactionStatus?: () => string | null;
    readyForQuery?: boolean;
  };
  if (!c.getTransactionStatus) return "E";
  if (c.readyForQuery === false) await new Promise((resolve) => client.once("drain", resolve));
  return c.getTransactionStatus();
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
