// The safeguard mutants of RELIABILITY.md ("Each scenario can fail"): each
// removes one safeguard from a copy of the built library (packages/outbox/dist)
// by exact text edits. test/chaos/mutants.test.ts checks that every edit still
// applies to the current build, so a change to the library's SQL cannot leave
// a mutant silently stale; test/chaos/mutants.mjs builds one.

export const MUTANTS = {
  // Releases and completions (the DELETE of completion "delete", the default,
  // and the done update of "keep") no longer check that the row is still mine.
  "no-fence": {
    file: "consumer/sql.js",
    edits: [
      [
        "AND status = 'in_flight' AND claimed_by = $3\n  RETURNING id",
        "AND status = 'in_flight' AND $3::text IS NOT NULL\n  RETURNING id",
      ],
      [
        "AND status = 'in_flight' AND claimed_by = $3\n  RETURNING 1",
        "AND status = 'in_flight' AND $3::text IS NOT NULL\n  RETURNING 1",
      ],
      // The check after a short completion must not catch what the fence no
      // longer stops, or the mutant would be caught by the consumer itself.
      ["AND o.status = 'done' AND o.claimed_by = $3)", "AND o.status = 'done' AND $3::text IS NOT NULL)"],
      [
        "AND o.status = 'in_flight' AND o.claimed_by = $7",
        "AND o.status = 'in_flight' AND $7::text IS NOT NULL",
      ],
    ],
    scenario: "test/chaos/crash.test.ts test/chaos/database.test.ts -t 'SIGSTOP|stalled'",
  },
  // The reaper sweeps in-flight rows of every generation.
  "reaper-any-generation": {
    file: "consumer/sql.js",
    edits: [
      [
        "WHERE o.generation = $1 AND o.status = 'in_flight'\n    AND (o.lease_expires_at",
        "WHERE $1::int IS NOT NULL AND o.status = 'in_flight'\n    AND (o.lease_expires_at",
      ],
      [
        "WHERE o.id = r.id AND o.generation = $1 AND o.status = 'in_flight'",
        "WHERE o.id = r.id AND $1::int IS NOT NULL AND o.status = 'in_flight'",
      ],
    ],
    scenario: "test/chaos/deploy.test.ts -t rolling",
  },
  // Claims take pending rows of any generation.
  "claim-any-generation": {
    file: "consumer/sql.js",
    edits: [
      [
        "WHERE o.generation = $1 AND o.status = 'pending'",
        "WHERE $1::int IS NOT NULL AND o.status = 'pending'",
      ],
    ],
    scenario: "test/chaos/deploy.test.ts -t rolling",
  },
  // A (handler, key) already in event_handled runs again instead of being skipped.
  "no-dedupe": {
    file: "consumer/chunk/chunk.js",
    edits: [["if (!this.fresh.delete(k)) {", "if (!this.fresh.delete(k) && false) {"]],
    // A SIGKILLed worker's transaction rolls back with its event_handled rows,
    // so only a zombie whose transaction commits late exercises the dedupe.
    scenario: "test/chaos/crash.test.ts test/chaos/database.test.ts -t 'SIGSTOP|stalled'",
  },
  // The claim's synchronous_commit = off outlives its transaction: it stays
  // on the pooled connection, so later chunk COMMITs on it are asynchronous
  // too, and the premise of "Asynchronous claim commits" (docs/guarantees.md:
  // the chunk's synchronous COMMIT flushes the WAL past the claim) is gone.
  "claim-async-session": {
    file: "consumer/sql.js",
    edits: [
      ["set_config('synchronous_commit', 'off', true)", "set_config('synchronous_commit', 'off', false)"],
    ],
    scenario: "test/chaos/server-crash.test.ts",
  },
  // The consumer's sessions lose idle_in_transaction_session_timeout (both
  // the pool's startup parameter and the chunk's set_config): a frozen
  // worker's chunk transaction stays open, its locked rows are never reaped.
  "unbounded-sessions": {
    file: "consumer/sql.js",
    edits: [
      [
        "set_config('idle_in_transaction_session_timeout', $6, true)",
        "set_config('cutover.mutant', $6, true)",
      ],
    ],
    also: [
      { file: "consumer/consumer.js", edits: [["idle_in_transaction_session_timeout: b.sessionMs,", ""]] },
    ],
    scenario: "test/chaos/freeze.test.ts -t 'SIGSTOP mid-chunk'",
  },
  // A chunk lost to its connection charges an attempt, as before issue 15.
  "charge-lost-connections": {
    file: "consumer/outcome.js",
    edits: [
      ['if (failure.by === "infrastructure" || failure.by === "shutdown")', 'if (failure.by === "shutdown")'],
    ],
    scenario: "test/chaos/freeze.test.ts -t 'killed over and over'",
  },
};
