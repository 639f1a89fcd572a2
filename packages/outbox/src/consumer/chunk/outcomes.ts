/**
 * What a chunk decides per event (done, retry, dead, released) and the
 * fenced release that writes the non-done ones. The retry/dead decision
 * itself is outcome.ts; this maps it onto an event.
 */
import type pg from "pg";
import { corked } from "../../db.js";
import type { HandlerDefinition, OutboxEvent } from "../../handler.js";
import { decideOutcome, type Failure, type RetryPolicies } from "../outcome.js";
import type { ClaimedRow, Statements } from "../sql.js";

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

export function message(err: unknown): string {
  const text =
    err instanceof Error ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}` : String(err);
  return text.length > 2000 ? `${text.slice(0, 2000)}...` : text;
}

/**
 * The outcome of an event that did not end done: charged (retry after a
 * backoff, or dead at its limit) only when a handler failed; otherwise
 * released with its attempt given back (decideOutcome).
 */
export function failedOutcome(
  retry: RetryPolicies,
  event: OutboxEvent,
  failure: Failure,
  handler: HandlerDefinition | null,
  error: string,
  succeeded: string[],
  failedHandlers: string[],
): Outcome {
  const d = decideOutcome(failure, event.attempt, retry.for(event.topic, handler));
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
  env: { sql: Statements; generation: number; workerId: string },
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
