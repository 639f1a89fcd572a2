/**
 * How long anything on a consumer's connections may wait, derived from its
 * options (docs/guarantees.md, "A frozen or partitioned worker").
 *
 * A worker can stop without dying: a SIGSTOP, a long GC pause, a paused
 * container, a network partition that drops packets without closing the
 * connection. Its chunk transaction then stays open on the server. Two
 * things keep that from stalling anyone else:
 *
 * - Every chunk transaction holds a KEY SHARE lock on the rows it runs
 *   (taken by the event_handled insert). The reaper skips locked rows, so it
 *   never hands a frozen worker's rows to another worker while the frozen
 *   transaction, with its uncommitted event_handled keys, is still open: no
 *   live worker ever waits on those keys.
 * - The server ends that transaction on its own: the consumer's sessions run
 *   with idle_in_transaction_session_timeout and statement_timeout set to
 *   `sessionMs`. Its locks go, its writes roll back, and the reaper takes its
 *   rows back once their lease expired too. When the frozen worker wakes,
 *   its connection is gone: nothing it did commits, and the fenced release
 *   it then tries finds rows that are no longer its own.
 *
 * lock_timeout (also `sessionMs`) bounds the waits that remain possible (a
 * key shared with another generation's running handler, a pruner DELETE).
 * A partitioned worker's own queries would wait forever for a reply; pg's
 * client-side query_timeout (`queryMs`, past the server's own timeout so a
 * clean cancel normally comes first) fails them, and TCP keepalive finds
 * idle connections that died.
 */

/** How long a timed-out or aborted handler gets to settle before its query is cancelled, then its backend terminated. */
export const HANDLER_GRACE_MS = 500;

export interface SessionBounds {
  /**
   * idle_in_transaction_session_timeout, statement_timeout and lock_timeout
   * of the consumer's sessions: the longest handler timeout, plus the grace
   * a timed-out handler gets before its query is cancelled and its backend
   * terminated, plus 1 s. A healthy chunk transaction is never idle longer:
   * it is idle only while a handler runs without querying.
   */
  sessionMs: number;
  /** pg's query_timeout: a statement whose reply never comes (partition) fails after this. */
  queryMs: number;
  /** TCP keepalive starts probing an idle connection after this. */
  keepAliveMs: number;
  /**
   * The longest a frozen or partitioned worker keeps the rows it holds from
   * its generation, counted from the moment it froze: the lease or twice
   * `sessionMs` (a statement running when it froze may take `sessionMs` to
   * end, then the idle transaction another `sessionMs`), whichever is longer,
   * plus one reaper interval. Other rows are not delayed by it at all.
   */
  frozenPeerMs: number;
}

export function sessionBounds(o: {
  handlerTimeoutMs: number;
  handlers: readonly { timeoutMs?: number }[];
  leaseMs: number;
  reaperIntervalMs: number;
}): SessionBounds {
  const longestHandler = Math.max(o.handlerTimeoutMs, ...o.handlers.map((h) => h.timeoutMs ?? 0));
  const sessionMs = Math.min(longestHandler + 2 * HANDLER_GRACE_MS + 1000, 2_147_483_647);
  return {
    sessionMs,
    queryMs: Math.min(sessionMs + 5000, 2_147_483_647),
    keepAliveMs: 10_000,
    frozenPeerMs: Math.max(o.leaseMs, 2 * sessionMs) + o.reaperIntervalMs,
  };
}
