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
 *
 * The reaper applies the same rule set-wise, in SQL (sql.ts `reap`: a stuck
 * row at `attempts >= limit` goes dead, else pending), with the limits of
 * `RetryPolicies.limits`: the one table both read.
 */
import { likePatternFor } from "../events.js";
import type { HandlerDefinition } from "../handler.js";
import { isConnectionError, SqlState, sqlStateOf } from "../sqlstate.js";
import type { HandlerIndex } from "./handlers.js";

export type Failure =
  /** A handler threw, timed out, left its transaction failed, or did not stop. */
  | { by: "handler"; permanent: boolean }
  /** The database or the network failed the chunk; no handler is to blame. */
  | { by: "infrastructure" }
  /** A forced shutdown interrupted the run. */
  | { by: "shutdown" }
  /** The chunk failed for a reason none of the above explains: charged, so no event loops forever. */
  | { by: "unknown" };

/**
 * How an event's failures are charged, as data: tries before it goes dead,
 * and the retry delay, full jitter: random(0, min(maxMs, baseMs * 2^(attempt-1))).
 */
export interface RetryPolicy {
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
}

export type Decision =
  | { kind: "retry"; retryInMs: number }
  | { kind: "dead" }
  /** Back to pending at once, attempt not counted, available_at kept. */
  | { kind: "released" };

/**
 * What a failure of the event's `attempt`-th try costs under `policy`.
 * `random` (0 <= r < 1) draws the jitter; it is called only for a retry.
 */
export function decideOutcome(
  failure: Failure,
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): Decision {
  if (failure.by === "infrastructure" || failure.by === "shutdown") return { kind: "released" };
  if ((failure.by === "handler" && failure.permanent) || attempt >= policy.maxAttempts)
    return { kind: "dead" };
  return { kind: "retry", retryInMs: Math.floor(random() * (backoffCapMs(policy, attempt) + 1)) };
}

/** The longest retry delay after the `attempt`-th try: min(maxMs, baseMs * 2^(attempt-1)). */
export function backoffCapMs(policy: RetryPolicy, attempt: number): number {
  const { baseMs, maxMs } = policy.backoff;
  return Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}

/**
 * The attempt limits of one handler set. An event's limit is the largest of
 * its handlers' limits (a handler's `maxAttempts`, else the consumer's), so no
 * handler loses tries it was promised; a failure a handler is blamed for
 * takes that handler's own limit.
 */
export class RetryPolicies {
  /** Per subscription (as a LIKE pattern) the largest limit of its handlers: the reaper's table. */
  readonly limits: { topics: string[]; max: number[] };

  constructor(
    private readonly base: RetryPolicy,
    private readonly handlers: HandlerIndex,
  ) {
    this.limits = { topics: [], max: [] };
    for (const t of handlers.subscriptions) {
      const hs = handlers.all.filter((h) => h.topics.includes(t));
      this.limits.topics.push(likePatternFor(t));
      this.limits.max.push(Math.max(...hs.map((h) => h.maxAttempts ?? base.maxAttempts)));
    }
  }

  /** The consumer's own policy: the limit of an event no handler limit applies to. */
  get default(): RetryPolicy {
    return this.base;
  }

  /** The policy of an event of `topic` whose failure is blamed on `handler` (null: on no handler). */
  for(topic: string, handler: HandlerDefinition | null): RetryPolicy {
    return { maxAttempts: this.maxAttempts(topic, handler), backoff: this.base.backoff };
  }

  private maxAttempts(topic: string, handler: HandlerDefinition | null): number {
    if (handler?.maxAttempts !== undefined) return handler.maxAttempts;
    const hs = this.handlers.for(topic);
    const fallback = this.base.maxAttempts;
    return hs.length > 0 ? Math.max(...hs.map((h) => h.maxAttempts ?? fallback)) : fallback;
  }
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
