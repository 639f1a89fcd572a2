/**
 * The one retry/dead decision: what happens to an event whose run did not
 * end in `done`. Pure: the chunk says who failed, this says what it costs.
 *
 * Only a handler's own failure is charged: it consumes the attempt the claim
 * counted and waits out a backoff, or goes dead at the limit. Everything
 * else (the chunk's connection lost, its transaction ended by the server, a
 * lock or statement timeout, a forced shutdown) is not the event's fault: the
 * row is released with its attempt given back and its place in the due order
 * kept (docs/guarantees.md, "Failure accounting").
 */
import { isConnectionError, SqlState, sqlStateOf } from "../sqlstate.js";

export type Failure =
  /** A handler threw, timed out, left its transaction failed, or did not stop. */
  | { by: "handler"; permanent: boolean }
  /** The database or the network failed the chunk; no handler is to blame. */
  | { by: "infrastructure" }
  /** A forced shutdown interrupted the run. */
  | { by: "shutdown" }
  /** The chunk failed for a reason none of the above explains: charged, so no event loops forever. */
  | { by: "unknown" };

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs(attempt: number): number;
}

export type Decision =
  | { kind: "retry"; retryInMs: number }
  | { kind: "dead" }
  /** Back to pending at once, attempt not counted, available_at kept. */
  | { kind: "released" };

export function decideOutcome(failure: Failure, attempt: number, policy: RetryPolicy): Decision {
  if (failure.by === "infrastructure" || failure.by === "shutdown") return { kind: "released" };
  if ((failure.by === "handler" && failure.permanent) || attempt >= policy.maxAttempts)
    return { kind: "dead" };
  return { kind: "retry", retryInMs: policy.backoffMs(attempt) };
}

/** pg's message when query_timeout fired: no reply came (a partition); the connection is unusable. */
export const QUERY_READ_TIMEOUT = "Query read timeout";

/**
 * Whether a failed chunk's error is the infrastructure's: the connection
 * (lost, reset, ended by the server's idle-in-transaction timeout), no reply
 * in time (query_timeout), or a bounded wait that ran out (lock timeout,
 * statement timeout on the chunk's own statement, deadlock, serialization).
 */
export function isInfrastructureFailure(err: unknown): boolean {
  if (isConnectionError(err)) return true;
  if (err instanceof Error && err.message === QUERY_READ_TIMEOUT) return true;
  switch (sqlStateOf(err)) {
    case SqlState.idleInTransactionTimeout:
    case SqlState.lockNotAvailable:
    case SqlState.queryCanceled:
    case SqlState.deadlockDetected:
    case SqlState.serializationFailure:
      return true;
    default:
      return false;
  }
}

/** Whether the chunk's connection can no longer be trusted with a ROLLBACK (it would wait or fail). */
export function connectionUnusable(err: unknown): boolean {
  return (
    isConnectionError(err) ||
    (err instanceof Error && err.message === QUERY_READ_TIMEOUT) ||
    sqlStateOf(err) === SqlState.idleInTransactionTimeout
  );
}
