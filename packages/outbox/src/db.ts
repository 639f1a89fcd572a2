import { createHash } from "node:crypto";
import type { CompiledQuery } from "kysely";
import type pg from "pg";
import { CutoverError } from "./errors.js";

/** The smallest thing Cutover needs to run SQL: a pg Client/PoolClient or a kysely instance/transaction. */
export interface QueryResultLike<R> {
  rows: R[];
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResultLike<R>>;
}

/** A `pg` Client, PoolClient or Pool (anything with pg's `query(text, values)`). */
export interface PgClientLike {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** A kysely `Kysely` or `Transaction` (duck-typed so any kysely 0.27+ works). */
export interface KyselyLike {
  executeQuery(query: CompiledQuery): Promise<{ rows: unknown[] }>;
  readonly isTransaction: boolean;
}

/**
 * What every public function that runs SQL takes: a `pg` Client, PoolClient or
 * Pool, or a kysely `Kysely` or `Transaction`. Duck-typed, so any pg 8 and
 * kysely 0.27/0.28 fit (packages/outbox/test/public-surface.test.ts checks
 * they do). Functions that write in the caller's transaction (publish)
 * refuse a Pool or a non-transaction Kysely at run time.
 */
export type DbHandle = PgClientLike | KyselyLike;

let queryIds = 0;

/**
 * What kysely's `CompiledQuery.raw(text, params)` builds, built here so that
 * importing Cutover does not load kysely (a consumer never needs it; ~10 MB
 * of a worker's RSS): the SQL, its parameters, a RawNode and a query id
 * object (plugins key their per-query state on it).
 */
function rawQuery(text: string, params: readonly unknown[]): CompiledQuery {
  return Object.freeze({
    sql: text,
    query: Object.freeze({
      kind: "RawNode" as const,
      sqlFragments: Object.freeze([text]),
      parameters: Object.freeze([]),
    }),
    parameters: Object.freeze([...params]),
    queryId: { queryId: `cutover${++queryIds}` },
  });
}

function isKysely(db: unknown): db is KyselyLike {
  return typeof (db as KyselyLike | null)?.executeQuery === "function";
}

function isPool(db: unknown): boolean {
  const d = db as { totalCount?: unknown; idleCount?: unknown; connect?: unknown } | null;
  return (
    typeof d?.connect === "function" && typeof d.totalCount === "number" && typeof d.idleCount === "number"
  );
}

interface NamedQuery {
  query(config: { name: string; text: string }, values: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * A node-postgres client (which caches named prepared statements per
 * connection in `connection.parsedStatements`), not merely something with a
 * `query(text, values)` method that may not accept a config object.
 */
function isNodePostgresClient(c: unknown): boolean {
  const conn = (c as { connection?: { parsedStatements?: unknown } } | null)?.connection;
  return typeof conn?.parsedStatements === "object" && conn.parsedStatements !== null;
}

/**
 * The name of a named prepared statement: `prefix` plus a hash of the text, so
 * two callers sharing a connection with different texts (schemas, topic
 * filters) never reuse one name for two statements.
 */
export function preparedName(prefix: string, text: string): string {
  return `${prefix}_${createHash("sha1").update(text).digest("hex").slice(0, 10)}`;
}

/**
 * Adapts a caller's handle. With `requireTransaction`, a pg Pool or a
 * non-transaction Kysely is refused: statements through them may run on
 * different connections, outside the caller's transaction.
 */
export function toQueryable(
  db: unknown,
  what: string,
  opts: { requireTransaction?: boolean; statementNames?: ReadonlyMap<string, string> } = {},
): Queryable {
  if (isKysely(db)) {
    if (opts.requireTransaction && !db.isTransaction) {
      throw new CutoverError(
        "DB_HANDLE_INVALID",
        `${what} needs a kysely transaction (db.transaction().execute(tx => ...)), not the Kysely instance`,
      );
    }
    return {
      async query<R>(text: string, params: readonly unknown[] = []) {
        const res = await db.executeQuery(rawQuery(text, params));
        return { rows: res.rows as R[] };
      },
    };
  }
  if (typeof (db as PgClientLike | null)?.query === "function") {
    if (opts.requireTransaction && isPool(db)) {
      throw new CutoverError(
        "DB_HANDLE_INVALID",
        `${what} needs the client your transaction runs on (await pool.connect()), not a pg Pool`,
      );
    }
    const client = db as PgClientLike;
    if (opts.requireTransaction && outsideTransaction(client)) {
      throw new CutoverError(
        "DB_HANDLE_INVALID",
        `${what} needs an open transaction on this client: it is not inside BEGIN ... COMMIT, so the event would commit on its own, without your business write (run BEGIN first)`,
      );
    }
    const names = opts.statementNames && isNodePostgresClient(client) ? opts.statementNames : undefined;
    return {
      async query<R>(text: string, params: readonly unknown[] = []) {
        const name = names?.get(text);
        const res = name
          ? await (corked(client) as unknown as NamedQuery).query({ name, text }, params as unknown[])
          : await client.query(text, params as unknown[]);
        return { rows: res.rows as R[] };
      },
    };
  }
  throw new CutoverError("DB_HANDLE_INVALID", `${what} needs a pg Client/PoolClient or a kysely transaction`);
}

/**
 * Answered `true` by a handler's `ctx.tx`: it is the chunk's client inside
 * the chunk's transaction for as long as the run lasts, and its query()
 * refuses with HANDLER_TX_CLOSED after, so the not-in-a-transaction check
 * (which would then see the released client idle) is skipped for it.
 */
export const HANDLER_TX: unique symbol = Symbol("cutover.handlerTx");

interface TransactionStatusClient {
  [HANDLER_TX]?: unknown;
  /** node-postgres >= 8.12: the last ReadyForQuery status: "I" idle, "T" in a transaction, "E" failed one. */
  getTransactionStatus?(): string | null;
  /** node-postgres internals, read defensively: a statement running or queued on the client. */
  _getActiveQuery?(): unknown;
  _queryQueue?: unknown[];
}

/**
 * Whether a node-postgres client is certainly not in a transaction: its last
 * ReadyForQuery said idle ("I") and nothing it was asked to run is still
 * pending (a BEGIN sent without await would be, and is not refused). Clients
 * that cannot tell (pg look-alikes, older pg) are given the benefit of the doubt.
 */
function outsideTransaction(client: unknown): boolean {
  const c = client as TransactionStatusClient;
  if (c[HANDLER_TX] === true) return false;
  if (typeof c.getTransactionStatus !== "function" || c.getTransactionStatus() !== "I") return false;
  if (typeof c._getActiveQuery === "function" && c._getActiveQuery() != null) return false;
  return !(Array.isArray(c._queryQueue) && c._queryQueue.length > 0);
}

interface CorkableStream {
  cork(): void;
  uncork(): void;
  writableCorked?: number;
}

/**
 * Holds a pg connection's socket writes until the current tick's work is
 * done, so the four protocol messages pg writes for one extended-protocol
 * statement (Bind, Describe, Execute, Sync: four `write` calls) leave in one
 * `writev`. Each write otherwise wakes the backend on its own, and on a
 * machine where Postgres shares the cores the worker loses the CPU after
 * the first one (the key insert's client.query() took ~0.17 ms to return
 * on 2 loaded vCPUs, timed once in an instrumented build; the committed
 * tools/bench/latency-probe.mjs shows the claim -> handler start path this
 * shortened, together with eager start). A no-op when the client exposes no
 * socket (pg-native, a future pg); statements queued behind a busy
 * connection are written later, uncorked, exactly as before.
 */
export function corked<C>(client: C): C {
  const stream = (client as { connection?: { stream?: Partial<CorkableStream> } }).connection?.stream;
  if (!stream || typeof stream.cork !== "function" || typeof stream.uncork !== "function") return client;
  if (stream.writableCorked) return client;
  stream.cork();
  process.nextTick(() => stream.uncork?.());
  return client;
}

/**
 * `pool.query` with the statement's writes coalesced (`corked`), and the same
 * care as pg-pool's own: an 'error' listener while the connection is checked
 * out (a connection lost mid-statement must not become an unhandled 'error'
 * event that kills the process), and a connection whose statement failed is
 * destroyed rather than returned to the pool.
 */
export async function corkedPoolQuery<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  config: string | pg.QueryConfig,
  values: unknown[],
): Promise<pg.QueryResult<R>> {
  const client = await pool.connect();
  let failed: Error | undefined;
  const onError = (err: Error) => {
    failed ??= err;
  };
  client.on("error", onError);
  try {
    return await corked(client).query<R>(config, values);
  } catch (err) {
    failed ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.off("error", onError);
    client.release(failed);
  }
}
