#!/usr/bin/env node
// Profiles Cutover's hot paths on a private embedded PostgreSQL with
// pg_stat_statements loaded (or DATABASE_URL, if that server has it):
//   --part publish   where publishBatch's time goes: Node-side encode vs the
//                    statement, and the statement's parts (NOTIFY, ON CONFLICT
//                    + RETURNING, jsonb_to_recordset vs a VALUES list)
//   --part claim     EXPLAIN ANALYZE of the claim on a fresh backlog and on a
//                    drained-but-unvacuumed table
//   --part burndown  a burn-down with per-statement database time
//   --part steady    single-event transactions at a fixed rate: claims per
//                    event (NOTIFY wake-ups) and rows per claim
// Options: --events N, --procs N, --rate N, --seconds N, --cutover '{json}'.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { z } from "zod";
import * as outbox from "../../packages/outbox/dist/index.js";
import { payloadFor, TOPIC } from "./lib/payload.mjs";
import { createDatabase, EMBEDDED_FLAGS, settle, startServer } from "./lib/server.mjs";
import { nowMs, sleep } from "./lib/stats.mjs";
import { startWorkers } from "./lib/workers.mjs";
import * as cutover from "./systems/cutover.mjs";
import * as limit from "./systems/limit.mjs";

const { values: args } = parseArgs({
  options: {
    part: { type: "string", default: "publish,claim,burndown,steady" },
    events: { type: "string", default: "100000" },
    procs: { type: "string", default: "1" },
    rate: { type: "string", default: "2000" },
    seconds: { type: "string", default: "10" },
    cutover: { type: "string" },
    "analyze-every": { type: "string" },
  },
});
const N = Number(args.events);
const TUNING = args.cutover ? JSON.parse(args.cutover) : {};
const parts = args.part.split(",");
const out = (s = "") => process.stdout.write(`${s}\n`);

// pg_stat_statements needs preloading: start our own server unless told otherwise.
EMBEDDED_FLAGS.push(
  "-c",
  "shared_preload_libraries=pg_stat_statements",
  "-c",
  "pg_stat_statements.track=all",
);
const server = await startServer();

async function fresh(tag) {
  const url = await createDatabase(server.adminUrl, `profile_${tag}`);
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  pool.on("error", () => {});
  await pool.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  const ctx = await cutover.setup(url, pool);
  return { url, pool, ctx };
}

async function topStatements(pool, n = 8) {
  const { rows } = await pool.query(
    `SELECT calls, round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
            rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY total_exec_time DESC LIMIT $1`,
    [n],
  );
  const { rows: tot } = await pool.query(
    `SELECT round(sum(total_exec_time)::numeric, 0) AS ms, sum(calls) AS calls FROM pg_stat_statements
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  out(`  statements: ${tot[0].calls} calls, ${tot[0].ms} ms of database execution in total`);
  out("  | calls | total ms | mean ms | rows | statement |");
  out("  |---|---|---|---|---|");
  for (const r of rows) out(`  | ${r.calls} | ${r.total_ms} | ${r.mean_ms} | ${r.rows} | \`${r.query}\` |`);
}

async function reset(pool) {
  await pool.query("SELECT pg_stat_statements_reset()");
}

async function timeBatches(label, batches, fn) {
  const t0 = nowMs();
  for (let i = 0; i < batches; i++) await fn(i);
  const ms = nowMs() - t0;
  out(
    `  ${label}: ${(ms / batches).toFixed(2)} ms per batch of 1000 (${Math.round((batches * 1000 * 1000) / ms)} rows/s)`,
  );
  return ms;
}

async function profilePublish() {
  out("## publishBatch(1000), one connection, 30 batches per variant");
  const events = outbox.defineEvents({
    [TOPIC]: z.object({
      seq: z.number().int(),
      orderId: z.string(),
      amount: z.number(),
      currency: z.string(),
    }),
  });
  const env = await fresh("publish");
  const publisher = await outbox.createPublisher({ events, db: env.pool, generation: env.ctx.generation });
  const items = (i) =>
    Array.from({ length: 1000 }, (_, k) => ({ topic: TOPIC, payload: payloadFor(i * 1000 + k) }));
  // Node-side cost alone: a client whose query returns at once.
  const nothing = { query: async () => ({ rows: [] }) };
  await timeBatches("Node side only (validate + encode, no database)", 30, (i) =>
    publisher.publishBatch(nothing, items(i)),
  );
  const c = await env.pool.connect();
  const tx = async (fn) => {
    await c.query("BEGIN");
    await fn();
    await c.query("COMMIT");
  };
  await tx(() => publisher.publishBatch(c, items(1000)));
  await reset(env.pool);
  await timeBatches("publishBatch (full)", 30, (i) => tx(() => publisher.publishBatch(c, items(100 + i))));
  const doc = (i) =>
    JSON.stringify(
      items(i).map((it, n) => ({
        i: n,
        topic: it.topic,
        payload: it.payload,
        headers: {},
        key: randomUUID(),
      })),
    );
  const s = "cutover.outbox";
  const recordset =
    "jsonb_to_recordset($2::jsonb) AS t(i int, topic text, payload jsonb, headers jsonb, key text, okey text, at timestamptz)";
  await timeBatches("statement without the NOTIFY CTE", 30, (i) =>
    tx(() =>
      c.query(
        `INSERT INTO ${s} (generation, topic, payload, headers, idempotency_key, ordering_key, available_at)
         SELECT $1, t.topic, t.payload, t.headers, t.key, t.okey, coalesce(t.at, now()) FROM ${recordset}
         ORDER BY t.i ON CONFLICT (topic, idempotency_key) DO NOTHING RETURNING id, topic, idempotency_key`,
        [env.ctx.generation, doc(200 + i)],
      ),
    ),
  );
  await timeBatches("... and without ON CONFLICT / RETURNING / ORDER BY", 30, (i) =>
    tx(() =>
      c.query(
        `INSERT INTO ${s} (generation, topic, payload, headers, idempotency_key, ordering_key, available_at)
         SELECT $1, t.topic, t.payload, t.headers, t.key, t.okey, coalesce(t.at, now()) FROM ${recordset}`,
        [env.ctx.generation, doc(300 + i)],
      ),
    ),
  );
  await timeBatches("... RETURNING only the id", 30, (i) =>
    tx(() =>
      c.query(
        `INSERT INTO ${s} (generation, topic, payload, headers, idempotency_key, ordering_key, available_at)
         SELECT $1, t.topic, t.payload, t.headers, t.key, t.okey, coalesce(t.at, now()) FROM ${recordset}
         ORDER BY t.i ON CONFLICT (topic, idempotency_key) DO NOTHING RETURNING id`,
        [env.ctx.generation, doc(400 + i)],
      ),
    ),
  );
  await timeBatches(
    "unnest of parallel arrays (payload text[] -> jsonb), ON CONFLICT, RETURNING id",
    30,
    (i) => {
      const its = items(500 + i);
      return tx(() =>
        c.query(
          `INSERT INTO ${s} (generation, topic, payload, idempotency_key)
         SELECT $1, $2, p::jsonb, k FROM unnest($3::text[], $4::text[]) AS t(p, k)
         ON CONFLICT (topic, idempotency_key) DO NOTHING RETURNING id`,
          [env.ctx.generation, TOPIC, its.map((x) => JSON.stringify(x.payload)), its.map(() => randomUUID())],
        ),
      );
    },
  );
  await timeBatches("plain multi-row VALUES INSERT (the bench's limit)", 30, (i) =>
    tx(async () => {
      const sys = await import("./systems/plain.mjs");
      await sys.insert(
        env.ctx,
        c,
        items(600 + i).map((x) => x.payload),
      );
    }),
  );
  c.release();
  out();
  await topStatements(env.pool, 10);
  await env.pool.end();
}

const claimParams = (ctx, n) => [ctx.generation, n, "profile-worker", 60000, [TOPIC]];

async function explainClaim(env, label, n) {
  const sql = (await import("../../packages/outbox/dist/consumer/sql.js")).consumerSql("cutover", [
    TOPIC,
  ]).claim;
  const c = await env.pool.connect();
  try {
    await c.query("BEGIN");
    const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) ${sql}`, claimParams(env.ctx, n));
    await c.query("ROLLBACK");
    out(`### claim of ${n}: ${label}`);
    out("```");
    for (const r of rows) out(r["QUERY PLAN"]);
    out("```");
  } finally {
    c.release();
  }
}

async function profileClaim() {
  out("## claim statement plans");
  const env = await fresh("claim");
  await limit.prefillFast(env.ctx, env.url, N);
  await settle(env.url);
  await explainClaim(env, `fresh backlog of ${N}, vacuumed`, 200);
  // Drain everything (as the consumer would leave it) without vacuuming.
  await env.pool.query(
    "UPDATE cutover.outbox SET status = 'done', processed_at = now() WHERE status = 'pending'",
  );
  await env.pool.query(
    `INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key)
     SELECT $1, $2, '{}'::jsonb, 'late-' || g FROM generate_series(1, 1000) g`,
    [env.ctx.generation, TOPIC],
  );
  await explainClaim(env, `${N} done rows not yet vacuumed + 1000 pending`, 200);
  await env.pool.end();
}

async function burnOnce(procs) {
  const env = await fresh(`burn${procs}`);
  await limit.prefillFast(env.ctx, env.url, N);
  await settle(env.url);
  await reset(env.pool);
  const workers = await startWorkers("cutover", env.url, env.ctx.workerConfig, TUNING, procs, "count");
  // Optional: ANALYZE the outbox every N ms, as an aggressive autoanalyze would.
  const every = Number(args["analyze-every"] ?? 0);
  let analyzing = true;
  const analyzer = (async () => {
    while (every > 0 && analyzing) {
      await sleep(every);
      if (analyzing) await env.pool.query("ANALYZE cutover.outbox");
    }
  })();
  let tEnd;
  for (;;) {
    const { rows } = await env.pool.query(
      "SELECT count(*)::int AS n FROM cutover.outbox WHERE status IN ('pending','in_flight')",
    );
    if (rows[0].n === 0) {
      tEnd = nowMs();
      break;
    }
    await sleep(250);
  }
  analyzing = false;
  await analyzer;
  const stops = await Promise.all(workers.map((w) => w.stop()));
  const tStart = Math.min(...workers.map((w) => w.state.first));
  const wall = tEnd - tStart;
  out(
    `## burn-down of ${N}, ${procs} process(es), tuning ${JSON.stringify(TUNING)}${every ? `, ANALYZE every ${every} ms` : ""}: ${Math.round((N / wall) * 1000)} events/s over ${Math.round(wall)} ms; ` +
      `worker CPU ${stops.map((s) => Math.round(s.cpuMs)).join(" + ")} ms, peak RSS ${stops.map((s) => Math.round(s.peakRssMB)).join(", ")} MB`,
  );
  await topStatements(env.pool, 10);
  await env.pool.end();
}

async function profileSteady() {
  const rate = Number(args.rate);
  const seconds = Number(args.seconds);
  const env = await fresh("steady");
  const events = outbox.defineEvents({
    [TOPIC]: z.object({
      seq: z.number().int(),
      orderId: z.string(),
      amount: z.number(),
      currency: z.string(),
    }),
  });
  const publisher = await outbox.createPublisher({ events, db: env.pool, generation: env.ctx.generation });
  const workers = await startWorkers("cutover", env.url, env.ctx.workerConfig, TUNING, 1, "count");
  await sleep(300);
  await reset(env.pool);
  // Single-event transactions from 4 connections at `rate` events/s in total.
  let published = 0;
  const t0 = nowMs();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      const c = await env.pool.connect();
      try {
        for (;;) {
          const elapsed = nowMs() - t0;
          if (elapsed >= seconds * 1000) return;
          if (published >= (elapsed * rate) / 1000) {
            await sleep(1);
            continue;
          }
          const seq = published++;
          await c.query("BEGIN");
          await publisher.publish(c, TOPIC, payloadFor(seq));
          await c.query("COMMIT");
        }
      } finally {
        c.release();
      }
    }),
  );
  const ms = nowMs() - t0;
  while (workers[0].state.handled < published) await sleep(20);
  const [stop] = await Promise.all(workers.map((w) => w.stop()));
  out(
    `## steady: ${published} single-event publishes in ${Math.round(ms)} ms (${Math.round((published / ms) * 1000)}/s), worker CPU ${Math.round(stop.cpuMs)} ms`,
  );
  await topStatements(env.pool, 10);
  await env.pool.end();
}

try {
  if (parts.includes("publish")) await profilePublish();
  if (parts.includes("claim")) await profileClaim();
  if (parts.includes("burndown")) for (const p of args.procs.split(",")) await burnOnce(Number(p));
  if (parts.includes("steady")) await profileSteady();
} finally {
  await server.stop();
}
