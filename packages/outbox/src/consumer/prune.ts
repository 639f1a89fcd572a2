import type { Queryable } from "../db.js";
import { quoteIdent } from "../identifiers.js";

export interface PruneSpec {
  schema: string;
  doneOlderThanMs: number;
  handledOlderThanMs: number;
  exitedWorkersOlderThanMs?: number;
  batchSize: number;
  /** Only this generation's rows (default: every generation). */
  generation?: number;
  signal?: AbortSignal;
}

/**
 * Deletes, in statements of at most `batchSize` rows (each its own
 * autocommit transaction, SKIP LOCKED so pruners never wait on each other):
 * `done` outbox rows processed before the retention; `event_handled` rows
 * older than theirs whose outbox row is done or gone (never one whose event
 * may still run or be retried from dead); exited workers rows. Never touches
 * pending, in-flight or dead rows.
 */
export async function pruneBatches(
  db: Queryable,
  spec: PruneSpec,
): Promise<{ outbox: number; eventHandled: number; workers: number }> {
  const s = quoteIdent(spec.schema);
  const gen = spec.generation ?? null;
  const outboxSql = `WITH d AS (DELETE FROM ${s}.outbox WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM ${s}.outbox
  WHERE status = 'done' AND processed_at < now() - $1 * interval '1 millisecond'
    AND ($3::int IS NULL OR generation = $3)
  LIMIT $2 FOR UPDATE SKIP LOCKED)) RETURNING 1) SELECT count(*)::int AS n FROM d`;
  const handledSql = `WITH d AS (DELETE FROM ${s}.event_handled WHERE ctid = ANY(ARRAY(
  SELECT h.ctid FROM ${s}.event_handled h
  WHERE h.handled_at < now() - $1 * interval '1 millisecond'
    AND ($3::int IS NULL OR h.generation = $3)
    AND NOT EXISTS (SELECT 1 FROM ${s}.outbox o WHERE o.id = h.event_id AND o.status <> 'done')
  LIMIT $2 FOR UPDATE OF h SKIP LOCKED)) RETURNING 1) SELECT count(*)::int AS n FROM d`;
  const workersSql = `WITH d AS (DELETE FROM ${s}.workers WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM ${s}.workers
  WHERE status = 'exited' AND last_seen < now() - $1 * interval '1 millisecond'
    AND ($3::int IS NULL OR generation = $3)
  LIMIT $2 FOR UPDATE SKIP LOCKED)) RETURNING 1) SELECT count(*)::int AS n FROM d`;
  const run = async (sql: string, olderThan: number): Promise<number> => {
    let total = 0;
    for (;;) {
      if (spec.signal?.aborted) return total;
      const { rows } = await db.query<{ n: number }>(sql, [olderThan, spec.batchSize, gen]);
      const n = rows[0]?.n ?? 0;
      total += n;
      if (n < spec.batchSize) return total;
    }
  };
  const outbox = await run(outboxSql, spec.doneOlderThanMs);
  const eventHandled = await run(handledSql, spec.handledOlderThanMs);
  const workers =
    spec.exitedWorkersOlderThanMs === undefined ? 0 : await run(workersSql, spec.exitedWorkersOlderThanMs);
  return { outbox, eventHandled, workers };
}
