// What a test can rely on once an event completed with the default
// completion ("delete"): its outbox row is gone AND an event_handled row
// names it. "Gone" alone proves nothing: a lost row is gone too.
import type { Queryable } from "../../src/db.js";

export interface EventState {
  id: string;
  /** The row's status, or "completed": deleted by a completion, with an event_handled row naming it. */
  status: string;
  /** Null for a completed (deleted) row. */
  attempts: number | null;
}

/**
 * The events of `generation` in id order: the rows still in the outbox, and
 * the deleted ones that event_handled records as handled (by this
 * generation's consumer). An event that is neither is absent: lost.
 */
export async function eventStates(db: Queryable, generation: number): Promise<EventState[]> {
  const { rows } = await db.query<EventState>(
    `SELECT id::text AS id, status, attempts FROM cutover.outbox WHERE generation = $1
     UNION ALL
     SELECT DISTINCT h.event_id::text, 'completed', NULL::int FROM cutover.event_handled h
      WHERE h.generation = $1 AND NOT EXISTS (SELECT 1 FROM cutover.outbox o WHERE o.id = h.event_id)
     ORDER BY 1`,
    [generation],
  );
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * The state of one event by id: its row's status; "completed" when the row
 * is gone and an event_handled row names it; "lost" when it is gone without.
 */
export async function eventState(db: Queryable, id: string | number): Promise<string> {
  const { rows } = await db.query<{ status: string }>(
    `SELECT coalesce(
       (SELECT status FROM cutover.outbox WHERE id = $1::bigint),
       CASE WHEN EXISTS (SELECT 1 FROM cutover.event_handled WHERE event_id = $1::bigint) THEN 'completed' ELSE 'lost' END
     ) AS status`,
    [String(id)],
  );
  return rows[0]!.status;
}

/**
 * How many events of `generation` completed: rows kept `done` plus deleted
 * rows that an event_handled row of the generation names.
 */
export async function completedCount(db: Queryable, generation: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM cutover.outbox WHERE generation = $1 AND status = 'done')::int
          + (SELECT count(DISTINCT h.event_id) FROM cutover.event_handled h
              WHERE h.generation = $1 AND NOT EXISTS (SELECT 1 FROM cutover.outbox o WHERE o.id = h.event_id))::int AS n`,
    [generation],
  );
  return rows[0]!.n;
}
