/**
 * The consumer's statements, one builder per hot query. Every value is a
 * parameter; the schema name is validated and quoted by the caller. Every
 * statement that changes a row re-checks generation, status and owner.
 */
import type pg from "pg";
import { preparedName } from "../db.js";
import { quoteIdent } from "../identifiers.js";

export interface ClaimedRow {
  id: string;
  topic: string;
  payload: unknown;
  headers: Record<string, string> | null;
  idempotency_key: string;
  ordering_key: string | null;
  tenant: string | null;
  generation: number;
  attempts: number;
  created_at: Date;
  lag_ms: number;
  /**
   * For the claim's lowest id (the first event of its first chunk, the only
   * one that may start eagerly) on a first attempt with no earlier failure,
   * reap or re-queue (`last_error` null): whether a handler of
   * this consumer allowed to start before the chunk's event_handled insert
   * answers (one exact topic) already has a committed row for this key.
   * Null for every other row.
   */
  seen: boolean | null;
}

/**
 * Which topics a consumer claims: `null` for every topic (some handler
 * subscribes to `*`); otherwise exact names and LIKE patterns (escaped topic
 * prefixes followed by `%`), passed as parameters.
 */
export interface TopicFilter {
  exact: readonly string[];
  likes: readonly string[];
}

export function consumerSql(schemaName: string, filter: TopicFilter | null) {
  const s = quoteIdent(schemaName);
  // $7/$8 (claim) and $2/$3 (remaining) only exist when the handler set does
  // not include the wildcard.
  const topicFilter = (exact: number) =>
    filter === null
      ? ""
      : `AND (o.topic = ANY($${exact}::text[]) OR o.topic LIKE ANY($${exact + 1}::text[]))`;
  return {
    /**
     * Claims up to $2 claimable rows of generation $1 for worker $3 with a
     * lease of $4 ms, in one autocommit statement. A row whose ordering key
     * has an earlier open (pending or in-flight) row is not claimable, so a
     * key's events run one at a time in id order. The attempt is counted here,
     * so a crash mid-handler still counts toward maxAttempts. Due order
     * (available_at, id) is the order only outbox_due provides, so the plan
     * stays on that index even with statistics taken before a burn-down; a
     * key's order does not depend on it (the NOT EXISTS above).
     *
     * The claim commits asynchronously (`synchronous_commit = off` for this
     * statement's transaction only: `cfg`), which takes a WAL flush off the
     * wake-up path. Safe because nothing depends on a claim surviving a
     * server crash: a lost claim leaves the row pending with its earlier
     * attempt count, and no handler effect can outlive it, since the chunk's
     * synchronous COMMIT flushes the WAL up to and including the claim
     * (docs/guarantees.md, "Asynchronous claim commits").
     *
     * `seen`: for the lowest claimed id on its first attempt that never
     * failed, was reaped or was re-queued (`last_error` is kept by all three,
     * and retryDead resets the attempts to 0), whether a
     * committed event_handled row exists for its key and one of the handlers
     * ($5 topics, $6 names, pairwise) allowed to start before the chunk's
     * insert answers; such a handler then waits for the insert instead
     * (docs/guarantees.md, "Eager start"). One primary-key probe per claim,
     * not per row: only a chunk's first run can start eagerly.
     */
    claim: `WITH c AS (
  SELECT o.id FROM ${s}.outbox o
  WHERE o.generation = $1 AND o.status = 'pending' AND o.available_at <= now() ${topicFilter(7)}
    AND (o.ordering_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM ${s}.outbox p
      WHERE p.generation = o.generation AND p.ordering_key = o.ordering_key AND p.id < o.id
        AND p.status IN ('pending', 'in_flight')))
  ORDER BY o.available_at, o.id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
), cfg AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))
UPDATE ${s}.outbox o
SET status = 'in_flight', claimed_by = $3, lease_expires_at = now() + $4 * interval '1 millisecond',
    attempts = o.attempts + 1
FROM c, cfg WHERE o.id = c.id
RETURNING o.id::text AS id, o.topic, o.payload, o.headers, o.idempotency_key, o.ordering_key, o.tenant, o.generation,
  o.attempts, o.created_at, (extract(epoch FROM now() - o.available_at) * 1000)::float8 AS lag_ms,
  CASE WHEN o.attempts = 1 AND o.last_error IS NULL AND o.id = (SELECT min(id) FROM c) THEN EXISTS (
    SELECT 1 FROM unnest($5::text[], $6::text[]) AS m(t, h)
    JOIN ${s}.event_handled eh ON eh.handler_name = m.h AND eh.idempotency_key = o.idempotency_key
    WHERE m.t = o.topic) END AS seen`,

    /**
     * Inserts the (handler, key) rows of a chunk in key order; returns the
     * pairs it did NOT insert (recorded before: that handler ran already).
     * Returning the exceptions instead of the inserted rows keeps the usual
     * answer empty instead of one row per event.
     *
     * The chunk's first statement, so it also bounds the transaction
     * (bounds.ts): `cfg` sets this transaction's idle, statement and lock
     * timeouts to $6 ms (for a pool the consumer did not open, whose sessions
     * lack them), and `lk` takes a KEY SHARE lock on the chunk's rows still
     * in flight under worker $5. The reaper skips locked rows, so it never
     * re-pends a row whose chunk transaction, with its uncommitted keys, is
     * still open: a worker frozen mid-chunk delays no one on its keys, and
     * loses its rows once the server ended its transaction. KEY SHARE does
     * not block the lease extension or the fenced updates (no key changes).
     * The InitPlans run before the first insert, so lock_timeout applies to it.
     */
    insertHandled: `WITH cfg AS MATERIALIZED (
  SELECT set_config('idle_in_transaction_session_timeout', $6, true) AS a,
    set_config('statement_timeout', $6, true) AS b, set_config('lock_timeout', $6, true) AS c
), lk AS MATERIALIZED (
  SELECT o.id FROM ${s}.outbox o
  WHERE o.id = ANY($3::bigint[]) AND o.generation = $4 AND o.status = 'in_flight' AND o.claimed_by = $5
  FOR KEY SHARE OF o
), ins AS (
  INSERT INTO ${s}.event_handled (handler_name, idempotency_key, event_id, generation)
  SELECT h, k, e, $4 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(h, k, e)
  WHERE (SELECT count(*) FROM cfg) + (SELECT count(*) FROM lk) >= 0
  ORDER BY h, k
  ON CONFLICT (handler_name, idempotency_key) DO NOTHING
  RETURNING handler_name, idempotency_key
)
SELECT h AS handler_name, k AS idempotency_key FROM unnest($1::text[], $2::text[]) AS t(h, k)
EXCEPT
SELECT handler_name, idempotency_key FROM ins`,

    /** Forgets the (handler, key) rows of handler runs that failed in this transaction. */
    deleteHandled: `DELETE FROM ${s}.event_handled
WHERE (handler_name, idempotency_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,

    /**
     * Fenced completion by delete (`completion: "delete"`, the default): only
     * rows still in flight, of my generation, claimed by me, are deleted;
     * returns the ids of $1 that were NOT deleted by me (taken from me), so the
     * usual answer is empty and a short completion needs no second query. The
     * chunk's event_handled rows, committed in the same transaction, are the
     * record that the event was handled. A deleted row is as closed as a done
     * one for the claim's per-key NOT EXISTS, the reaper and the fences.
     */
    completeDelete: `WITH d AS (
  DELETE FROM ${s}.outbox
  WHERE id = ANY($1::bigint[]) AND generation = $2 AND status = 'in_flight' AND claimed_by = $3
  RETURNING id
)
SELECT t.id::text AS id FROM unnest($1::bigint[]) AS t(id) WHERE NOT EXISTS (SELECT 1 FROM d WHERE d.id = t.id)`,

    /**
     * Fenced completion that keeps the row (`completion: "keep"`): only rows
     * still in flight, of my generation, claimed by me, go `done`; returns how
     * many. The pruner deletes them after retention.doneAfterMs.
     */
    complete: `WITH u AS (
  UPDATE ${s}.outbox SET status = 'done', processed_at = now(), lease_expires_at = NULL
  WHERE id = ANY($1::bigint[]) AND generation = $2 AND status = 'in_flight' AND claimed_by = $3
  RETURNING 1
)
SELECT count(*)::int AS n FROM u`,

    /** After a short completion (in the same transaction): the ids that are not done by me. */
    notCompletedByMe: `SELECT id::text AS id FROM unnest($1::bigint[]) AS t(id)
WHERE NOT EXISTS (
  SELECT 1 FROM ${s}.outbox o
  WHERE o.id = t.id AND o.generation = $2 AND o.status = 'done' AND o.claimed_by = $3)`,

    /**
     * Fenced batch release: per row `pending` (retry after delay_ms; with
     * uncount = 1 the claim's attempt is given back and the row keeps its
     * available_at, i.e. its place in the due order) or `dead`.
     */
    release: `UPDATE ${s}.outbox o
SET status = f.status,
    available_at = CASE WHEN f.status = 'pending' AND f.uncount = 0 THEN now() + f.delay_ms * interval '1 millisecond'
                        WHEN f.status = 'pending' THEN least(o.available_at, now()) ELSE o.available_at END,
    attempts = greatest(o.attempts - f.uncount, 0),
    last_error = coalesce(f.err, o.last_error),
    claimed_by = NULL, lease_expires_at = NULL,
    processed_at = CASE WHEN f.status = 'dead' THEN now() ELSE NULL END
FROM unnest($1::bigint[], $2::text[], $3::int8[], $4::text[], $5::int[]) AS f(id, status, delay_ms, err, uncount)
WHERE o.id = f.id AND o.generation = $6 AND o.status = 'in_flight' AND o.claimed_by = $7
RETURNING o.id::text AS id, o.status`,

    /**
     * After the database failed and answered again: rows of generation $1 still in flight and
     * claimed by me ($2) that I do not know I hold (not in $3) are ones whose claim committed but
     * whose answer was lost with the connection. No handler of mine ever saw them, and no reaper
     * takes them from a live worker before their lease expires: give them back at once, with the
     * claim's attempt and their place in the due order. last_error is set, as the reaper does, so
     * none of them starts eagerly (docs/guarantees.md, "Eager start").
     */
    releaseLostClaims: `UPDATE ${s}.outbox o
SET status = 'pending', claimed_by = NULL, lease_expires_at = NULL,
    attempts = greatest(o.attempts - 1, 0), available_at = least(o.available_at, now()),
    last_error = 'released by worker ' || $2 || ': the answer to its claim was lost with the connection'
WHERE o.generation = $1 AND o.status = 'in_flight' AND o.claimed_by = $2 AND NOT (o.id = ANY($3::bigint[]))
RETURNING o.id::text AS id`,

    /** Extends the leases of the rows I still hold. */
    extendLeases: `UPDATE ${s}.outbox SET lease_expires_at = now() + $4 * interval '1 millisecond'
WHERE id = ANY($1::bigint[]) AND generation = $2 AND status = 'in_flight' AND claimed_by = $3`,

    /**
     * Re-pends (or, at the attempt limit, deads) in-flight rows of generation
     * $1 whose lease expired or whose owner is exited, stale or unknown.
     * Attempt limits come as ($4 LIKE patterns, $5 limits): a row's limit is
     * the largest of the patterns its topic matches, default $3. A reaped row
     * keeps its available_at, so it is claimed before the rows published
     * after it (claims go in (available_at, id) order), not behind the backlog.
     * Rows a chunk transaction still holds (KEY SHARE, insertHandled) are
     * skipped until that transaction ends.
     */
    reap: `WITH r AS (
  SELECT o.id, o.claimed_by,
    CASE WHEN o.lease_expires_at IS NULL OR o.lease_expires_at < now() THEN 'lease expired'
         ELSE 'owner exited or stale' END AS why
  FROM ${s}.outbox o
  WHERE o.generation = $1 AND o.status = 'in_flight'
    AND (o.lease_expires_at IS NULL OR o.lease_expires_at < now() OR NOT EXISTS (
      SELECT 1 FROM ${s}.workers w
      WHERE w.id = o.claimed_by AND w.status <> 'exited' AND w.last_seen > now() - $2 * interval '1 millisecond'))
  ORDER BY o.id
  LIMIT $6
  FOR UPDATE OF o SKIP LOCKED
), lim AS (
  SELECT p, m FROM unnest($4::text[], $5::int[]) AS x(p, m)
)
UPDATE ${s}.outbox o
SET status = CASE WHEN o.attempts >= coalesce((SELECT max(m) FROM lim WHERE o.topic LIKE lim.p), $3) THEN 'dead' ELSE 'pending' END,
    available_at = least(o.available_at, now()),
    last_error = 'reaped from worker ' || coalesce(r.claimed_by, '?') || ': ' || r.why,
    processed_at = CASE WHEN o.attempts >= coalesce((SELECT max(m) FROM lim WHERE o.topic LIKE lim.p), $3) THEN now() ELSE NULL END,
    claimed_by = NULL, lease_expires_at = NULL
FROM r
WHERE o.id = r.id AND o.generation = $1 AND o.status = 'in_flight' AND o.claimed_by IS NOT DISTINCT FROM r.claimed_by
RETURNING o.id::text AS id, o.topic, o.status, r.claimed_by`,

    /** Registers or refreshes the workers row. */
    heartbeat: `INSERT INTO ${s}.workers AS w (id, generation, version, host, pid, status, info)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
ON CONFLICT (id) DO UPDATE SET last_seen = now(), status = EXCLUDED.status, generation = EXCLUDED.generation
RETURNING w.last_seen`,

    /** Counts what is left of this generation for this handler set (drain). */
    remaining: `SELECT count(*)::int AS n FROM ${s}.outbox o
WHERE o.generation = $1 AND o.status IN ('pending', 'in_flight') ${topicFilter(2)}`,
  };
}

export type ConsumerSql = ReturnType<typeof consumerSql>;
export type Statements = { readonly [K in keyof ConsumerSql]: string | pg.QueryConfig };

/**
 * The statements as the consumer sends them: with `prepared`, each is a named
 * prepared statement (parsed and analysed once per connection instead of on
 * every claim and chunk; measured in tools/bench/latency-probe.mjs). The name
 * carries a hash of the text, so consumers with different schemas or topic
 * filters sharing one pool never collide. `prepared: false` sends them
 * unnamed, for PgBouncer in transaction mode older than 1.21.
 */
export function statements(sql: ConsumerSql, prepared: boolean): Statements {
  const out: Record<string, string | pg.QueryConfig> = {};
  for (const [key, text] of Object.entries(sql)) {
    if (!prepared) {
      out[key] = text;
      continue;
    }
    out[key] = { name: preparedName(`cutover_${key}`, text), text };
  }
  return out as unknown as Statements;
}
