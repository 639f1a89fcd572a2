/**
 * The operations API behind `outbox-worker status | dead | drain`: reads
 * are single statements (each a consistent snapshot); writes are single
 * statements too, so on a pool each is its own transaction and on a client
 * inside BEGIN it commits or rolls back with the caller's transaction.
 */
import { pruneBatches } from "./consumer/prune.js";
import { type DbHandle, type Queryable, toQueryable } from "./db.js";
import { CutoverError } from "./errors.js";
import { DEFAULT_SCHEMA, quoteIdent, validateSchemaName } from "./identifiers.js";
import { requireMigrated } from "./not-migrated.js";

export interface GenerationStatus {
  generation: number;
  /** The deploy's version; null for rows of a generation never allocated. */
  version: string | null;
  pending: number;
  inFlight: number;
  dead: number;
  /**
   * `done` rows present. With the default completion ("delete") a handled
   * event leaves no row, so this counts only rows kept by consumers with
   * completion "keep" or written by older generations' code, until pruned.
   */
  done: number;
  /** Age of the oldest pending row (by created_at), or null. */
  oldestPendingAgeMs: number | null;
  /** Workers of this generation not exited and seen within staleAfterMs. */
  liveWorkers: number;
  /** Pending or in-flight rows and no live worker: nothing will process them. Reported, never taken over. */
  orphaned: boolean;
}

export interface WorkerStatus {
  id: string;
  generation: number;
  version: string;
  host: string;
  pid: number | null;
  status: "starting" | "running" | "reconnecting" | "draining" | "exited";
  startedAt: Date;
  lastSeen: Date;
  heartbeatAgeMs: number;
  /** Not exited and not seen within staleAfterMs: crashed or stalled. */
  stale: boolean;
}

export interface OutboxStatus {
  generations: GenerationStatus[];
  workers: WorkerStatus[];
}

export interface DeadEvent {
  id: string;
  generation: number;
  topic: string;
  attempts: number;
  lastError: string | null;
  idempotencyKey: string;
  orderingKey: string | null;
  /** The publisher's `tenant` option; null when it gave none. */
  tenant: string | null;
  payload: unknown;
  createdAt: Date;
  deadAt: Date | null;
}

function schemaOf(opts: { schema?: string } | undefined): string {
  return quoteIdent(validateSchemaName(opts?.schema ?? DEFAULT_SCHEMA));
}

/** `q` whose statements report an unmigrated schema as SCHEMA_BEHIND (see requireMigrated). */
function onMigrated(q: Queryable, opts: { schema?: string } | undefined): Queryable {
  const schema = opts?.schema ?? DEFAULT_SCHEMA;
  return { query: (text, params) => requireMigrated(schema, () => q.query(text, params)) };
}

function optionalGeneration(value: unknown, option = "generation"): number | null {
  if (value === undefined || value === null) return null;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 2_147_483_647) {
    throw new CutoverError("CONFIG_INVALID", `${option} must be a positive integer; got ${String(value)}`, {
      details: { option },
    });
  }
  return value as number;
}

/** A tenant filter: undefined for none, else the same shape publish accepts. */
function optionalTenant(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== "string" || value.length === 0 || value.length > 200 || value.includes("\u0000")) {
    throw new CutoverError("CONFIG_INVALID", "tenant must be a non-empty string of at most 200 characters", {
      details: { option: "tenant" },
    });
  }
  return value;
}

/**
 * Per-generation counts (every allocated generation, plus any generation
 * that has rows without a deployment) and the workers (not exited, or
 * exited within the last hour). Read-only: two statements, each a
 * consistent snapshot (not one snapshot together). Counts scan the outbox,
 * which housekeeping keeps small.
 */
export async function outboxStatus(
  db: DbHandle,
  opts: { schema?: string; staleAfterMs?: number } = {},
): Promise<OutboxStatus> {
  const s = schemaOf(opts);
  const stale = opts.staleAfterMs ?? 30_000;
  const q = onMigrated(toQueryable(db, "outboxStatus"), opts);
  const gens = await q.query<{
    generation: number;
    version: string | null;
    pending: number;
    in_flight: number;
    dead: number;
    done: number;
    oldest_ms: number | null;
    live: number;
  }>(
    `WITH counts AS (
  SELECT generation,
    count(*) FILTER (WHERE status = 'pending')::int AS pending,
    count(*) FILTER (WHERE status = 'in_flight')::int AS in_flight,
    count(*) FILTER (WHERE status = 'dead')::int AS dead,
    count(*) FILTER (WHERE status = 'done')::int AS done,
    min(created_at) FILTER (WHERE status = 'pending') AS oldest
  FROM ${s}.outbox GROUP BY generation
), live AS (
  SELECT generation, count(*)::int AS live FROM ${s}.workers
  WHERE status <> 'exited' AND last_seen > now() - $1 * interval '1 millisecond'
  GROUP BY generation
), gens AS (
  SELECT generation FROM ${s}.deployments UNION SELECT generation FROM counts
)
SELECT g.generation, d.version, coalesce(c.pending, 0) AS pending, coalesce(c.in_flight, 0) AS in_flight,
  coalesce(c.dead, 0) AS dead, coalesce(c.done, 0) AS done,
  (extract(epoch FROM now() - c.oldest) * 1000)::float8 AS oldest_ms, coalesce(l.live, 0) AS live
FROM gens g
LEFT JOIN ${s}.deployments d ON d.generation = g.generation
LEFT JOIN counts c ON c.generation = g.generation
LEFT JOIN live l ON l.generation = g.generation
ORDER BY g.generation`,
    [stale],
  );
  const workers = await q.query<{
    id: string;
    generation: number;
    version: string;
    host: string;
    pid: number | null;
    status: WorkerStatus["status"];
    started_at: Date;
    last_seen: Date;
    age_ms: number;
  }>(
    `SELECT id, generation, version, host, pid, status, started_at, last_seen,
  (extract(epoch FROM now() - last_seen) * 1000)::float8 AS age_ms
FROM ${s}.workers
WHERE status <> 'exited' OR last_seen > now() - interval '1 hour'
ORDER BY generation, id`,
  );
  return {
    generations: gens.rows.map((r) => ({
      generation: r.generation,
      version: r.version,
      pending: r.pending,
      inFlight: r.in_flight,
      dead: r.dead,
      done: r.done,
      oldestPendingAgeMs: r.oldest_ms === null ? null : Math.max(0, Math.round(r.oldest_ms)),
      liveWorkers: r.live,
      orphaned: r.pending + r.in_flight > 0 && r.live === 0,
    })),
    workers: workers.rows.map((r) => ({
      id: r.id,
      generation: r.generation,
      version: r.version,
      host: r.host,
      pid: r.pid,
      status: r.status,
      startedAt: r.started_at,
      lastSeen: r.last_seen,
      heartbeatAgeMs: Math.max(0, Math.round(r.age_ms)),
      stale: r.status !== "exited" && r.age_ms > stale,
    })),
  };
}

/**
 * Dead events, oldest first (default limit 100), optionally of one
 * generation and/or one tenant. Read-only, one statement.
 */
export async function listDead(
  db: DbHandle,
  opts: { generation?: number; tenant?: string; limit?: number; schema?: string } = {},
): Promise<DeadEvent[]> {
  const s = schemaOf(opts);
  const generation = optionalGeneration(opts.generation);
  const tenant = optionalTenant(opts.tenant);
  const limit = opts.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
    throw new CutoverError(
      "CONFIG_INVALID",
      `limit must be an integer from 1 to 100000; got ${String(limit)}`,
      {
        details: { option: "limit" },
      },
    );
  }
  const { rows } = await onMigrated(toQueryable(db, "listDead"), opts).query<{
    id: string;
    generation: number;
    topic: string;
    attempts: number;
    last_error: string | null;
    idempotency_key: string;
    ordering_key: string | null;
    tenant: string | null;
    payload: unknown;
    created_at: Date;
    processed_at: Date | null;
  }>(
    // o.id, not id: the output column `id` is text, and "11" sorts before "9".
    `SELECT o.id::text AS id, o.generation, o.topic, o.attempts, o.last_error, o.idempotency_key, o.ordering_key,
  o.tenant, o.payload, o.created_at, o.processed_at
FROM ${s}.outbox o
WHERE o.status = 'dead' AND ($1::int IS NULL OR o.generation = $1) AND ($3::text IS NULL OR o.tenant = $3)
ORDER BY o.generation, o.id LIMIT $2`,
    [generation, limit, tenant],
  );
  return rows.map((r) => ({
    id: r.id,
    generation: r.generation,
    topic: r.topic,
    attempts: r.attempts,
    lastError: r.last_error,
    idempotencyKey: r.idempotency_key,
    orderingKey: r.ordering_key,
    tenant: r.tenant,
    payload: r.payload,
    createdAt: r.created_at,
    deadAt: r.processed_at,
  }));
}

/**
 * Re-queues dead events (the given `ids`, or `all` of them, optionally only
 * those of one `generation` and/or one `tenant`): status pending, attempts reset to 0, available now,
 * last_error kept for history, and one NOTIFY per generation touched. One
 * statement: on a pool it is its own transaction; on a client inside BEGIN
 * it (and its NOTIFY) commits with the caller's transaction. Only `dead`
 * rows are touched. The events stay in their own generation.
 */
export async function retryDead(
  db: DbHandle,
  opts: { ids?: string[]; all?: boolean; generation?: number; tenant?: string; schema?: string },
): Promise<{ requeued: number }> {
  const schemaName = validateSchemaName(opts?.schema ?? DEFAULT_SCHEMA);
  const s = quoteIdent(schemaName);
  const generation = optionalGeneration(opts?.generation);
  const tenant = optionalTenant(opts?.tenant);
  const ids = opts?.ids;
  if (
    ids !== undefined &&
    (!Array.isArray(ids) || ids.some((id) => typeof id !== "string" || !/^[1-9][0-9]{0,18}$/.test(id)))
  ) {
    throw new CutoverError("CONFIG_INVALID", "ids must be an array of outbox ids (decimal strings)", {
      details: { option: "ids" },
    });
  }
  if ((ids === undefined) === (opts?.all !== true)) {
    throw new CutoverError("CONFIG_INVALID", "retryDead needs exactly one of ids or all: true", {
      details: { option: "ids" },
    });
  }
  const { rows } = await onMigrated(toQueryable(db, "retryDead"), opts).query<{ n: number }>(
    `WITH u AS (
  UPDATE ${s}.outbox SET status = 'pending', attempts = 0, available_at = now(), claimed_by = NULL,
    lease_expires_at = NULL, processed_at = NULL
  WHERE status = 'dead' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[])) AND ($2::int IS NULL OR generation = $2)
    AND ($4::text IS NULL OR tenant = $4)
  RETURNING id, generation
), n AS (
  -- The channel is channelFor(schema, generation): "<schema>.gen.<generation>".
  SELECT pg_notify($3 || '.gen.' || generation, min(id)::text) FROM u GROUP BY generation
)
SELECT (SELECT count(*) FROM u)::int AS n, (SELECT count(*) FROM n) AS notified`,
    [ids ?? null, generation, schemaName, tenant],
  );
  return { requeued: rows[0]?.n ?? 0 };
}

/**
 * Deletes `done` rows processed more than `doneOlderThanMs` ago and
 * `event_handled` rows older than `handledOlderThanMs` whose event is done
 * or gone, in batches of `batchSize` (default 1000), each batch its own
 * statement (autocommit on a pool). Never touches pending, in-flight or dead
 * rows. Optionally one generation only.
 */
export async function pruneProcessed(
  db: DbHandle,
  opts: {
    doneOlderThanMs: number;
    handledOlderThanMs?: number;
    batchSize?: number;
    generation?: number;
    schema?: string;
  },
): Promise<{ outbox: number; eventHandled: number }> {
  const schema = validateSchemaName(opts?.schema ?? DEFAULT_SCHEMA);
  const check = (v: unknown, option: string) => {
    if (!Number.isInteger(v) || (v as number) < 0) {
      throw new CutoverError("CONFIG_INVALID", `${option} must be a non-negative integer (ms)`, {
        details: { option },
      });
    }
    return v as number;
  };
  const done = check(opts?.doneOlderThanMs, "doneOlderThanMs");
  const handled = check(opts.handledOlderThanMs ?? done, "handledOlderThanMs");
  const batchSize = opts.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new CutoverError("CONFIG_INVALID", "batchSize must be a positive integer", {
      details: { option: "batchSize" },
    });
  }
  const generation = optionalGeneration(opts.generation);
  const res = await pruneBatches(onMigrated(toQueryable(db, "pruneProcessed"), opts), {
    schema,
    doneOlderThanMs: done,
    handledOlderThanMs: handled,
    batchSize,
    ...(generation === null ? {} : { generation }),
  });
  return { outbox: res.outbox, eventHandled: res.eventHandled };
}
