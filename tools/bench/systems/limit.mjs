// The database-work limit for Cutover's design: the consumer's own statements
// (the same text, imported from packages/outbox's build, prepared, with the
// same parameters and the same RETURNING), run back to back on raw `pg`
// connections with nothing else in the process: no handler dispatch, no
// payload validation, no LISTEN, heartbeat, reaper or lease timers. Per batch:
//
//   claim         one autocommit statement (FOR UPDATE SKIP LOCKED, RETURNING
//                 the rows, synchronous_commit off for its transaction)
//   BEGIN; insertHandled (an event_handled row per event); completeDelete
//   (the fenced DELETE of the library's default `completion: "delete"`; with
//   --limit '{"completion":"keep"}' the fenced done update instead); COMMIT
//
// i.e. two commits per batch, exactly what a Cutover chunk does when every
// handler succeeds. Cutover cannot do less database work per event than this
// without changing its statements, so the ratio Cutover / limit is how much of
// the design's own ceiling the library reaches. `lanes` connections per
// process (default 2, so one can claim while the other commits; 1 vs 2 has not
// been measured side by side yet: try --limit '{"lanes":1}') and `batchSize` rows per claim (default 500, Cutover's default)
// are tunable with --limit '{"lanes":1,"batchSize":1000}'.
//
// For enqueue the limit is pgbench running a multi-row INSERT of the same rows
// into the same table with no client at all (no NOTIFY, no RETURNING): a floor
// for a single INSERT, labelled as such in the report.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { consumerSql, statements } from "../../../packages/outbox/dist/consumer/sql.js";
import { HANDLER, TOPIC } from "../lib/payload.mjs";
import { insert as cutoverInsert, setup as cutoverSetup, SCHEMA } from "./cutover.mjs";

export const name = "limit";
export const label = "database-work limit";
export const DEFAULT_TUNING = { lanes: 2, batchSize: 500, completion: "delete" };
// The session bound the consumer sets on its chunk transactions (handler timeout 30 s + 2 s).
const SESSION_MS = 32_000;

export async function setup(url, pool) {
  return cutoverSetup(url, pool);
}

/** Backlogs are published by Cutover's publisher, so both burn down the same rows. */
export const insert = cutoverInsert;

const PAYLOAD_SQL = `jsonb_build_object('seq', g, 'orderId', 'ord-' || g, 'amount', 4200, 'currency', 'EUR')`;

function enqueueScript(batch) {
  return `BEGIN;
INSERT INTO ${SCHEMA}.outbox (generation, topic, payload, idempotency_key)
SELECT :gen::int, '${TOPIC}', ${PAYLOAD_SQL}, gen_random_uuid()::text FROM generate_series(1, ${batch}) AS g;
END;
`;
}

function pgbench(url, script, { clients, transactions, gen }) {
  const dir = mkdtempSync(join(tmpdir(), "cutover-pgbench-"));
  const file = join(dir, "script.sql");
  writeFileSync(file, script);
  const args = ["-n", "-M", "prepared", "-c", String(clients), "-j", String(Math.min(clients, 2))];
  args.push("-t", String(transactions), "-D", `gen=${gen}`, "-f", file, url);
  return new Promise((resolve, reject) => {
    const child = spawn("pgbench", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      rmSync(dir, { recursive: true, force: true });
      // pgbench output never contains the password; still, keep only its tail.
      if (code === 0) resolve(out);
      else reject(new Error(`pgbench exited ${code}: ${out.slice(-500)}`));
    });
  });
}

/** Enqueue `count` rows in transactions of `batch` from `clients` pgbench connections. */
export async function enqueue(ctx, url, { count, batch, clients }) {
  const transactions = Math.ceil(count / batch / clients);
  await pgbench(url, enqueueScript(batch), { clients, transactions, gen: ctx.generation });
  return transactions * clients * batch;
}

/**
 * Worker side (a child process, like every system's): `lanes` connections,
 * each looping claim -> BEGIN; insertHandled; complete; COMMIT until stopped.
 */
export async function createWorker(url, config, tuning, onHandle) {
  const opts = { ...DEFAULT_TUNING, ...tuning };
  const sql = statements(consumerSql(SCHEMA, { exact: [TOPIC], likes: [] }), true);
  const workerId = `limit-${randomUUID()}`;
  const gen = config.generation;
  let stopping = false;
  const lanes = [];

  async function lane(client) {
    const claimParams = [gen, opts.batchSize, workerId, 60_000, [TOPIC], [HANDLER], [TOPIC], []];
    while (!stopping) {
      const { rows } = await client.query(sql.claim, claimParams);
      if (rows.length === 0) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      const ids = rows.map((r) => r.id);
      await client.query("BEGIN");
      await client.query(sql.insertHandled, [
        rows.map(() => HANDLER),
        rows.map((r) => r.idempotency_key),
        ids,
        gen,
        workerId,
        String(SESSION_MS),
      ]);
      for (const r of rows) onHandle(r.payload.seq);
      if (opts.completion === "keep") {
        const done = await client.query(sql.complete, [ids, gen, workerId]);
        if (done.rows[0].n !== ids.length) throw new Error("limit: a claimed row was not completed (fence)");
      } else {
        // Returns the ids NOT deleted by this lane: none, unless the fence failed.
        const left = await client.query(sql.completeDelete, [ids, gen, workerId]);
        if (left.rows.length !== 0) throw new Error("limit: a claimed row was not completed (fence)");
      }
      await client.query("COMMIT");
    }
  }

  return {
    async start() {
      for (let i = 0; i < opts.lanes; i++) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        lanes.push({ client, run: lane(client) });
      }
    },
    async stop() {
      stopping = true;
      for (const l of lanes) {
        await l.run;
        await l.client.end();
      }
    },
  };
}

/**
 * Fills the outbox with `count` pending rows in one statement (profile.mjs;
 * run.mjs publishes the limit's backlog through Cutover's publisher instead,
 * so both burn down rows written the same way).
 */
export async function prefillFast(ctx, url, count) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO ${SCHEMA}.outbox (generation, topic, payload, idempotency_key)
       SELECT $1, '${TOPIC}', ${PAYLOAD_SQL}, 'k' || g FROM generate_series(1, $2::int) AS g`,
      [ctx.generation, count],
    );
  } finally {
    await c.end();
  }
}
