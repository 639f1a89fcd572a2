/**
 * What the freeze scenarios measure: which rows a worker holds (and which of
 * them an open chunk transaction has locked), how long events waited, and
 * the bound a frozen peer may impose (packages/outbox/src/consumer/bounds.ts).
 */
import { sessionBounds } from "../../../packages/outbox/src/consumer/bounds.js";
import { DEFAULT_TUNING, type Tuning } from "./procs.js";
import type { Rig } from "./rig.js";

/** The tuning of the freeze scenarios: a short handler timeout, so the session bound is 3 s. */
export const FREEZE_TUNING: Tuning = { handlerTimeoutMs: 1000 };

/** The bound of docs/guarantees.md for workers with `tuning`: max(lease, 2 x session) + reaper interval. */
export function frozenPeerBoundMs(tuning: Tuning = FREEZE_TUNING): { boundMs: number; sessionMs: number } {
  const b = sessionBounds({
    handlerTimeoutMs: tuning.handlerTimeoutMs ?? DEFAULT_TUNING.handlerTimeoutMs!,
    handlers: [],
    leaseMs: tuning.leaseMs ?? DEFAULT_TUNING.leaseMs!,
    reaperIntervalMs: tuning.reaperMs ?? DEFAULT_TUNING.reaperMs!,
  });
  return { boundMs: b.frozenPeerMs, sessionMs: b.sessionMs };
}

/** Rows in flight under `workerId`, and how many of them an open transaction holds locked (its chunk). */
export async function held(rig: Rig, workerId: string): Promise<{ ids: string[]; locked: number }> {
  const c = await rig.db.pool.connect();
  try {
    const all = await c.query<{ id: string }>(
      "SELECT id::text AS id FROM cutover.outbox WHERE status = 'in_flight' AND claimed_by = $1",
      [workerId],
    );
    await c.query("BEGIN");
    const free = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM cutover.outbox WHERE status = 'in_flight' AND claimed_by = $1
         FOR UPDATE SKIP LOCKED) x`,
      [workerId],
    );
    return { ids: all.rows.map((r) => r.id), locked: all.rows.length - free.rows[0]!.n };
  } finally {
    await c.query("ROLLBACK").catch(() => {});
    c.release();
  }
}

/**
 * The longest wait (publish to handled, ms) of events published in [from, to)
 * by publishers other than `exceptPublisher`, and how many there were. Read
 * from the effects and the business rows (same transaction as the publish),
 * since a completion deletes the outbox row.
 */
export async function freshLatency(
  rig: Rig,
  from: Date,
  to: Date,
  exceptPublisher?: string,
): Promise<{ n: number; maxMs: number; p50Ms: number }> {
  const { rows } = await rig.db.pool.query<{ n: number; max: number | null; p50: number | null }>(
    `SELECT count(*)::int AS n, max(ms)::float8 AS max,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::float8 AS p50
     FROM (SELECT extract(epoch FROM e.handled_at - b.created_at) * 1000 AS ms
             FROM public.chaos_effects e JOIN public.orders b ON b.key = e.idempotency_key
            WHERE b.created_at >= $1 AND b.created_at < $2
              AND ($3::text IS NULL OR e.idempotency_key NOT LIKE $3 || '-%')) x`,
    [from, to, exceptPublisher ?? null],
  );
  return { n: rows[0]!.n, maxMs: Math.round(rows[0]!.max ?? 0), p50Ms: Math.round(rows[0]!.p50 ?? 0) };
}

/**
 * When the last of `ids` was completed, ms after `since` (null if one is not):
 * a `done` row, or a row gone from the outbox whose effect exists.
 */
export async function doneAfter(rig: Rig, ids: string[], since: Date): Promise<number | null> {
  const { rows } = await rig.db.pool.query<{ open: number; last: number | null }>(
    `SELECT count(*) FILTER (WHERE CASE WHEN o.id IS NULL THEN e.at IS NULL ELSE o.status <> 'done' END)::int AS open,
       (extract(epoch FROM max(coalesce(o.processed_at, e.at)) - $2::timestamptz) * 1000)::float8 AS last
     FROM unnest($1::bigint[]) AS t(id)
     LEFT JOIN cutover.outbox o ON o.id = t.id
     LEFT JOIN LATERAL (SELECT max(handled_at) AS at FROM public.chaos_effects WHERE event_id = t.id) e ON true`,
    [ids, since],
  );
  return rows[0]!.open > 0 ? null : Math.round(Math.max(0, rows[0]!.last ?? 0));
}

/** Effect rows written by `worker` for `ids` (a woken zombie's must have rolled back). */
export async function effectsBy(rig: Rig, worker: string, ids: string[]): Promise<number> {
  const { rows } = await rig.db.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM public.chaos_effects WHERE worker = $1 AND event_id = ANY($2::bigint[])",
    [worker, ids],
  );
  return rows[0]!.n;
}
