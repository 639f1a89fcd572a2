// Lever prototypes: plain pg-client loops that do the database work of a
// Cutover chunk (claim with SKIP LOCKED, an event_handled row per event, a
// fenced completion) in the current shape and in each candidate shape. The
// current shape is Cutover's own statement text (imported from the build),
// prepared, with the same parameters: the same loop as the bench's
// "database-work limit" (tools/bench/systems/limit.mjs).
//
// Every variant here keeps the fences of the current statements (generation,
// status, claimed_by) and records the event_handled rows in the transaction
// that completes the events. What each one would cost in guarantees is
// written in PROFILE.md, not decided here.
import { createHash, randomUUID } from "node:crypto";
import pg from "pg";
import { consumerSql } from "../../../packages/outbox/dist/consumer/sql.js";
import { HANDLER, TOPIC } from "../lib/payload.mjs";
import { nowMs } from "../lib/stats.mjs";
import { processCpuMs } from "./common.mjs";

const S = "cutover";
const SESSION_MS = "32000";
const LEASE_MS = 60_000;

const base = consumerSql(S, { exact: [TOPIC], likes: [] });

/** Cutover's claim, cut into its parts so variants can reshape it. */
const claimParts = (() => {
  const c = base.claim;
  const cte = `${c.slice(0, c.indexOf("), cfg AS MATERIALIZED"))})`;
  const update = c.slice(c.indexOf("\nUPDATE ") + 1, c.indexOf("RETURNING"));
  const returning = c.slice(c.indexOf("RETURNING") + "RETURNING".length);
  return { cte, update, returning };
})();

/** What a Cutover chunk needs to build its events, without the computed columns (lag_ms, seen) and the generation. */
const NARROW = `o.id::text AS id, o.topic, o.payload, o.headers, o.idempotency_key, o.ordering_key, o.tenant,
  o.attempts, o.created_at`;
const MINIMAL = "o.id::text AS id, o.payload, o.idempotency_key";

/**
 * The claim with another RETURNING list. Without the `seen` column the eager
 * handler lists ($5, $6) are gone, so the topic filter moves to $5/$6.
 */
const claimReturning = (cols) =>
  `${base.claim.slice(0, base.claim.indexOf("RETURNING")).replace("$7", "$5").replace("$8", "$6")}RETURNING ${cols}`;

/** The claim inside the chunk transaction: no asynchronous commit (it would apply to the whole chunk). */
const claimInTx = `${claimParts.cte}\n${claimParts.update.replace("FROM c, cfg", "FROM c")}RETURNING${claimParts.returning}`;

/**
 * Claim and handle-mark in one statement, inside the chunk transaction: the
 * claimed rows' event_handled rows are inserted by the same statement, which
 * says per row whether the (handler, key) pair was recorded before. It also
 * sets the chunk's timeouts (the insert's `cfg` today). Parameters:
 * $1 generation, $2 limit, $3 worker, $4 lease ms, $5 topics, $6 topic
 * patterns, $7 handler name, $8 session ms.
 */
const claimAndMark = (cols) => `${claimParts.cte.replace("$7", "$5").replace("$8", "$6")},
cfg AS MATERIALIZED (
  SELECT set_config('idle_in_transaction_session_timeout', $8, true) AS a,
    set_config('statement_timeout', $8, true) AS b, set_config('lock_timeout', $8, true) AS c
), u AS (
  ${claimParts.update}RETURNING ${cols}
), ins AS (
  INSERT INTO ${S}.event_handled (handler_name, idempotency_key, event_id, generation)
  SELECT $7::text, u.idempotency_key, u.id::bigint, $1 FROM u ORDER BY 2
  ON CONFLICT (handler_name, idempotency_key) DO NOTHING
  RETURNING idempotency_key
)
SELECT u.*, ins.idempotency_key IS NULL AS ran_before FROM u LEFT JOIN ins USING (idempotency_key)`;

const completeDelete = `WITH d AS (
  DELETE FROM ${S}.outbox
  WHERE id = ANY($1::bigint[]) AND generation = $2 AND status = 'in_flight' AND claimed_by = $3
  RETURNING 1
)
SELECT count(*)::int AS n FROM d`;

const completeDeleteHistory = `WITH d AS (
  DELETE FROM ${S}.outbox
  WHERE id = ANY($1::bigint[]) AND generation = $2 AND status = 'in_flight' AND claimed_by = $3
  RETURNING *
), h AS (
  INSERT INTO ${S}.outbox_history (id, generation, topic, payload, headers, idempotency_key, ordering_key, tenant,
    attempts, created_at, processed_at)
  SELECT id, generation, topic, payload, headers, idempotency_key, ordering_key, tenant, attempts, created_at, now()
  FROM d
  RETURNING 1
)
SELECT count(*)::int AS n FROM h`;

const HISTORY_DDL = `CREATE TABLE ${S}.outbox_history (
  id bigint PRIMARY KEY, generation integer NOT NULL, topic text NOT NULL, payload jsonb NOT NULL,
  headers jsonb NOT NULL, idempotency_key text NOT NULL, ordering_key text, tenant text,
  attempts integer NOT NULL, created_at timestamptz NOT NULL, processed_at timestamptz NOT NULL)`;

/** The event_handled insert with nothing around it: no timeouts, no KEY SHARE lock, no EXCEPT answer. */
const insertPlain = `INSERT INTO ${S}.event_handled (handler_name, idempotency_key, event_id, generation)
SELECT h, k, e, $4 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(h, k, e)
ORDER BY h, k
ON CONFLICT (handler_name, idempotency_key) DO NOTHING`;

/** The same rows as a multi-row VALUES list (4 parameters per row; one text per chunk size). */
function insertValues(n) {
  const rows = Array.from(
    { length: n },
    (_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}::bigint, $${i * 4 + 4}::int)`,
  );
  return `INSERT INTO ${S}.event_handled (handler_name, idempotency_key, event_id, generation)
VALUES ${rows.join(", ")}
ON CONFLICT (handler_name, idempotency_key) DO NOTHING`;
}

/** outbox as a LIST-partitioned table, one partition per generation, with the same columns and indexes. */
function partitionDdl(generations) {
  return [
    `DROP TABLE ${S}.outbox`,
    `CREATE SEQUENCE ${S}.outbox_id_seq`,
    `CREATE TABLE ${S}.outbox (
  id bigint NOT NULL DEFAULT nextval('${S}.outbox_id_seq'),
  generation integer NOT NULL, topic text NOT NULL, payload jsonb NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb, idempotency_key text NOT NULL, ordering_key text,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_flight', 'done', 'dead')),
  attempts integer NOT NULL DEFAULT 0, available_at timestamptz NOT NULL DEFAULT now(),
  claimed_by text, lease_expires_at timestamptz, last_error text,
  created_at timestamptz NOT NULL DEFAULT now(), processed_at timestamptz, tenant text,
  PRIMARY KEY (id, generation)
) PARTITION BY LIST (generation)`,
    // A partitioned table's unique index must include the partition key: dedupe becomes per generation.
    `CREATE UNIQUE INDEX outbox_topic_idempotency_key ON ${S}.outbox (topic, idempotency_key, generation)`,
    `CREATE INDEX outbox_open_by_ordering_key ON ${S}.outbox (generation, ordering_key, id)
  WHERE ordering_key IS NOT NULL AND status IN ('pending', 'in_flight')`,
    `CREATE INDEX outbox_in_flight ON ${S}.outbox (generation, lease_expires_at) WHERE status = 'in_flight'`,
    `CREATE INDEX outbox_dead ON ${S}.outbox (generation, id) WHERE status = 'dead'`,
    `CREATE INDEX outbox_done_processed_at ON ${S}.outbox (processed_at) WHERE status = 'done'`,
    `CREATE INDEX outbox_due ON ${S}.outbox (generation, available_at, id) WHERE status = 'pending'`,
    `CREATE INDEX outbox_dead_tenant ON ${S}.outbox (tenant, generation, id) WHERE status = 'dead' AND tenant IS NOT NULL`,
    ...generations.map((g) => `CREATE TABLE ${S}.outbox_g${g} PARTITION OF ${S}.outbox FOR VALUES IN (${g})`),
  ];
}

/** Cutover's prune of done rows (packages/outbox/src/consumer/prune.ts), one batch. */
const PRUNE_BATCH = `WITH d AS (DELETE FROM ${S}.outbox WHERE ctid = ANY(ARRAY(
  SELECT ctid FROM ${S}.outbox
  WHERE status = 'done' AND processed_at < now() - $1 * interval '1 millisecond'
    AND ($3::int IS NULL OR generation = $3)
  LIMIT $2 FOR UPDATE SKIP LOCKED)) RETURNING 1) SELECT count(*)::int AS n FROM d`;

/** The generation number given to the "retired" rows of the partitioning lever. */
export const OLD_GENERATION = 900;

/**
 * A chunk's shape. Defaults are Cutover's current one: autocommit claim of
 * `batch` rows (asynchronous commit), then BEGIN; insertHandled; complete;
 * COMMIT, all prepared, on `lanes` connections.
 */
const CURRENT = {
  lanes: 2,
  prepared: true,
  claim: base.claim,
  oneTx: false,
  merged: false,
  insert: "current",
  complete: base.complete,
  prefetch: false,
  ddl: [],
  oldDone: 0,
};

/**
 * The levers, each as [A, B]: A the current shape (or the lever's own
 * baseline), B the candidate. Paired runs give B/A.
 */
export const LEVERS = {
  a1: {
    title: "(a) delete on completion instead of the status update (no history)",
    b: { complete: completeDelete },
  },
  a2: {
    title: "(a) delete on completion, with a history insert (outbox_history, primary key only)",
    b: { complete: completeDeleteHistory, ddl: [HISTORY_DDL] },
  },
  b1: {
    title:
      "(b) one transaction per chunk: BEGIN; claim; insertHandled; complete; COMMIT (one commit, not two)",
    b: { oneTx: true, claim: claimInTx },
  },
  b2: {
    title: "(b) one transaction, claim and handle-mark in one statement: BEGIN; claim+mark; complete; COMMIT",
    b: { oneTx: true, merged: true, claim: claimAndMark(NARROW) },
  },
  c1: {
    title: "(c) narrower claim RETURNING: no lag_ms, seen, generation",
    b: { claim: claimReturning(NARROW), claimArgs: "noSeen" },
  },
  c2: {
    title: "(c) minimal claim RETURNING: id, payload, key",
    b: { claim: claimReturning(MINIMAL), claimArgs: "noSeen" },
  },
  d: {
    title: "(d) unnamed (unprepared) statements instead of prepared (B/A < 1 means prepared helps)",
    b: { prepared: false },
  },
  e1: {
    title: "(e) bare unnest insert (no timeouts CTE, KEY SHARE lock, EXCEPT answer) instead of insertHandled",
    b: { insert: "plain" },
  },
  e2: {
    title: "(e) multi-row VALUES insert instead of the unnest one (both bare; A = bare unnest)",
    a: { insert: "plain" },
    b: { insert: "values" },
  },
  f1: {
    title: "(f) without the indexes only pruning reads (outbox_done_processed_at, event_handled_handled_at)",
    b: {
      ddl: [`DROP INDEX ${S}.outbox_done_processed_at`, `DROP INDEX ${S}.event_handled_handled_at`],
    },
  },
  g: {
    title: "(g) outbox LIST-partitioned by generation (a retired generation's done rows beside the backlog)",
    a: { oldDone: 1 },
    b: { oldDone: 1, partitioned: true },
  },
  g2: {
    title:
      "(g) partitioned as in (g), statements unnamed so every execution is planned with the generation known (no generic plan over all partitions)",
    a: { oldDone: 1 },
    b: { oldDone: 1, partitioned: true, prepared: false },
  },
  h: {
    title:
      "(h) one consumer lane: next claim pipelined on a second connection while the chunk commits (A = serial)",
    a: { lanes: 1 },
    b: { lanes: 1, prefetch: true },
  },
  combo: {
    title:
      "combination: one transaction, claim+mark in one statement, narrow RETURNING, delete on completion",
    b: { oneTx: true, merged: true, claim: claimAndMark(NARROW), complete: completeDelete },
  },
};

function named(text, prepared) {
  if (!prepared) return text;
  return { name: `prof_${createHash("sha1").update(text).digest("hex").slice(0, 12)}`, text };
}

export function shape(lever, side) {
  const l = LEVERS[lever];
  return { ...CURRENT, ...(side === "a" ? (l.a ?? {}) : l.b) };
}

/** Schema changes a shape needs, given the backlog's generation; run before the backlog is written. */
export function ddlFor(sh, generation) {
  const ddl = [...sh.ddl];
  if (sh.partitioned) ddl.push(...partitionDdl([generation, OLD_GENERATION]));
  return ddl;
}

/** Rows of a retired generation, all done, written before the backlog (the partitioning lever). */
export async function writeOldDone(client, count) {
  await client.query(
    `INSERT INTO ${S}.outbox (generation, topic, payload, idempotency_key, status, processed_at)
     SELECT $1, $2, jsonb_build_object('seq', g), 'old-' || g, 'done', now() FROM generate_series(1, $3::int) g`,
    [OLD_GENERATION, TOPIC, count],
  );
}

/** Removes the retired generation: prune in batches of 1,000 (today) or DETACH + DROP of its partition. */
export async function pruneOld(client, partitioned) {
  if (partitioned) {
    await client.query(`ALTER TABLE ${S}.outbox DETACH PARTITION ${S}.outbox_g${OLD_GENERATION}`);
    await client.query(`DROP TABLE ${S}.outbox_g${OLD_GENERATION}`);
    return;
  }
  for (;;) {
    const { rows } = await client.query(PRUNE_BATCH, [0, 1000, OLD_GENERATION]);
    if (rows[0].n === 0) return;
  }
}

/**
 * Runs the shape until its claims find nothing; returns the per-statement
 * client-side time (ms, summed over lanes) and the rows handled. `onRows`
 * sees every claimed batch (the "handler").
 */
export async function burn(url, generation, sh, { batch = 500, onRows = () => {} } = {}) {
  const workerId = `prof-${randomUUID()}`;
  const timing = {};
  const q = async (client, label, stmt, params) => {
    const t = nowMs();
    try {
      return await client.query(stmt, params);
    } finally {
      timing[label] = (timing[label] ?? 0) + (nowMs() - t);
    }
  };
  const P = (text) => named(text, sh.prepared);
  const claimStmt = P(sh.claim);
  const insertStmt =
    sh.insert === "current" ? P(base.insertHandled) : sh.insert === "plain" ? P(insertPlain) : null;
  const completeStmt = P(sh.complete);
  const claimParams = sh.merged
    ? [generation, batch, workerId, LEASE_MS, [TOPIC], [], HANDLER, SESSION_MS]
    : sh.claimArgs === "noSeen"
      ? [generation, batch, workerId, LEASE_MS, [TOPIC], []]
      : [generation, batch, workerId, LEASE_MS, [TOPIC], [HANDLER], [TOPIC], []];

  async function chunk(client, rows, openTx) {
    if (!openTx) await q(client, "BEGIN", "BEGIN");
    const ids = rows.map((r) => r.id);
    if (!sh.merged) {
      const names = rows.map(() => HANDLER);
      const keys = rows.map((r) => r.idempotency_key);
      if (sh.insert === "current") {
        await q(client, "insert", insertStmt, [names, keys, ids, generation, workerId, SESSION_MS]);
      } else if (sh.insert === "plain") {
        await q(client, "insert", insertStmt, [names, keys, ids, generation]);
      } else {
        const params = [];
        for (let i = 0; i < rows.length; i++) params.push(HANDLER, keys[i], ids[i], generation);
        await q(client, "insert", P(insertValues(rows.length)), params);
      }
    }
    onRows(rows);
    const done = await q(client, "complete", completeStmt, [ids, generation, workerId]);
    if (done.rows[0].n !== ids.length)
      throw new Error(`a claimed row was not completed (${done.rows[0].n}/${ids.length})`);
    await q(client, "COMMIT", "COMMIT");
  }

  async function claimOn(client) {
    if (sh.oneTx) await q(client, "BEGIN", "BEGIN");
    const { rows } = await q(client, "claim", claimStmt, claimParams);
    if (rows.length === 0 && sh.oneTx) await q(client, "ROLLBACK", "ROLLBACK");
    return rows;
  }

  // CPU ms of the backends serving this loop, read from /proc before each disconnects.
  let backendCpuMs = 0;
  const ends = new Map();
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    // A statement's error rejects its query; this only keeps a dropped connection from crashing the run.
    c.on("error", () => {});
    await c.connect();
    const { rows } = await c.query("SELECT pg_backend_pid() AS pid");
    const pid = rows[0].pid;
    const start = processCpuMs(pid);
    ends.set(c, () => {
      backendCpuMs += processCpuMs(pid) - start;
    });
    return c;
  };
  const close = async (c) => {
    ends.get(c)();
    await c.end();
  };
  let handled = 0;
  async function lane() {
    const a = await connect();
    try {
      if (sh.prefetch) {
        // The claim for the next chunk runs on connection b while a runs this one.
        const b = await connect();
        try {
          let claimConn = b;
          let next = claimOn(b);
          for (;;) {
            const rows = await next;
            if (rows.length === 0) break;
            // A one-transaction chunk continues in its claim's transaction, on that connection.
            const runOn = sh.oneTx ? claimConn : a;
            if (sh.oneTx) claimConn = claimConn === a ? b : a;
            next = claimOn(claimConn);
            await chunk(runOn, rows, sh.oneTx);
            handled += rows.length;
          }
        } finally {
          await close(b);
        }
        return;
      }
      for (;;) {
        const rows = await claimOn(a);
        if (rows.length === 0) break;
        await chunk(a, rows, sh.oneTx);
        handled += rows.length;
      }
    } finally {
      await close(a);
    }
  }
  await Promise.all(Array.from({ length: sh.lanes }, lane));
  return { handled, timing, backendCpuMs };
}
