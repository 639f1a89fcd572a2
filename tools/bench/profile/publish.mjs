#!/usr/bin/env node
// Publish throughput, split into its Node and Postgres parts (PROFILE.md,
// "Publish"). Every variant writes the same rows the bench's enqueue
// workload writes (`--events` in batches of `--batch`, BEGIN; one statement;
// COMMIT, 4 connections in parallel) into a fresh database; variants run
// interleaved, the order rotated each round, and each variant's rows/s is
// divided by graphile-worker's in the same round (ratio per pair, then
// min/median/max).
//
//   node tools/bench/profile/publish.mjs [--rounds 5] [--events 100000] [--batch 1000]
//        [--variants graphile,lib,lib-v4,sql,sql-v4,sql-v4-claimable,...] [--ref VARIANT]
//
// --ref VARIANT adds a second table: each variant's rows/s, server CPU/row
// and Node CPU/row divided by VARIANT's in the same round (paired).
//
// Variants:
//   graphile            add_jobs in the caller's transaction (the bench's statement)
//   lib                 publisher.publishBatch from this tree's dist (default keys)
//   lib-v4              the same with idempotencyKey: randomUUID() on every item (the old default)
//   sql[-v4][-claimable][-nonotify]
//                       Cutover's insert statement alone, as a named prepared
//                       statement with the JSON document built ahead of the
//                       timed loop (no validation, no encoding): Postgres's share.
//                       -v4: random keys instead of UUIDv7; -claimable: with the
//                       outbox_claimable index of migration 2 re-created.
//   lib-claimable       publishBatch with outbox_claimable re-created.
//   lib-base[-claimable] publishBatch of another build of packages/outbox
//                       (--base-dist DIR: its dist/ folder), e.g. the tree
//                       before a change; -claimable as above (the old schema).
//   ...-ccoll           the dedupe index (topic, idempotency_key) re-created with COLLATE "C"
//                       (byte order: no strcoll per comparison; same equality, so same dedupe).
//   sql-lean-json       sql-lean reading the document as json (json_to_recordset) instead of jsonb.
//   sql-lean            the statement reading a leaner document (no "i": WITH
//                       ORDINALITY; no null or default fields).
//   sql-arr             the columns as parallel arrays instead of one document:
//                       unnest($topics text[], $payloads jsonb[], $keys text[], ...)
//                       WITH ORDINALITY (absent columns: a NULL array).
//   sql-elems           payloads as one JSON array (jsonb_array_elements), the
//                       other columns as arrays, zipped by ROWS FROM.
//   sql-ids, sql-arr-ids, sql-elems-ids
//                       every key generated here: a plain INSERT (no ON CONFLICT:
//                       no speculative insertion) returning only the ids, as one
//                       comma-separated text in id order (= input order).
// Per variant also: WAL bytes per row and server CPU per row (when the
// server runs on this machine: /proc of the postmaster's children).
import { randomUUID } from "node:crypto";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { uuidv7 } from "../../../packages/outbox/dist/uuid.js";
import { createDatabase, dropDatabase, inTx } from "../lib/server.mjs";
import { median, nowMs, parallel } from "../lib/stats.mjs";
import * as cutover from "../systems/cutover.mjs";
import * as graphile from "../systems/graphile.mjs";
import { freshDatabase, load, out, postmasterPid, serverCpuMs, startProfileServer } from "./common.mjs";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    events: { type: "string", default: "100000" },
    batch: { type: "string", default: "1000" },
    clients: { type: "string", default: "4" },
    variants: { type: "string", default: "graphile,lib,lib-v4,sql,sql-v4" },
    "base-dist": { type: "string" },
    ref: { type: "string" },
  },
});
const ROUNDS = Number(args.rounds);
const N = Number(args.events);
const BATCH = Number(args.batch);
const CLIENTS = Number(args.clients);
const VARIANTS = args.variants.split(",");
const baseOutbox = args["base-dist"]
  ? await import(pathToFileURL(join(resolve(args["base-dist"]), "index.js")).href)
  : undefined;
const CLAIMABLE =
  "CREATE INDEX IF NOT EXISTS outbox_claimable ON cutover.outbox (generation, id) INCLUDE (available_at, ordering_key) WHERE status = 'pending'";

/** The publisher's lean statement (packages/outbox/src/publisher.ts), without the tenant column. */
const SQL = `WITH ins AS (
  INSERT INTO "cutover".outbox (generation, topic, payload, headers, idempotency_key, ordering_key, available_at)
  SELECT $1, t.topic, t.payload, t.headers, t.key, t.okey, coalesce(t.at, now())
  FROM jsonb_to_recordset($2::jsonb) AS t(i int, topic text, payload jsonb, headers jsonb, key text, okey text, at timestamptz)
  ORDER BY t.i
  ON CONFLICT (topic, idempotency_key) DO NOTHING
  RETURNING id, idempotency_key
), note AS (
  SELECT pg_notify($3, min(id)::text) FROM ins HAVING count(*) > 0 AND $4::boolean
)
SELECT id::text AS id, idempotency_key, (SELECT count(*) FROM note) AS notified FROM ins`;

/** The same insert reading a leaner document: no "i" (WITH ORDINALITY numbers the rows), no null or default fields. */
const SQL_LEAN = `WITH ins AS (
  INSERT INTO "cutover".outbox (generation, topic, payload, headers, idempotency_key, ordering_key, available_at)
  SELECT $1, t.topic, t.payload, coalesce(t.headers, '{}'), t.key, t.okey, coalesce(t.at, now())
  FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (topic text, payload jsonb, headers jsonb, key text, okey text, at timestamptz))
    WITH ORDINALITY AS t(topic, payload, headers, key, okey, at, i)
  ORDER BY t.i
  ON CONFLICT (topic, idempotency_key) DO NOTHING
  RETURNING id, idempotency_key
), note AS (
  SELECT pg_notify($3, min(id)::text) FROM ins HAVING count(*) > 0 AND $4::boolean
)
SELECT id::text AS id, idempotency_key, (SELECT count(*) FROM note) AS notified FROM ins`;

/** sql-lean-json: the document read as json, validated but not converted to jsonb as a whole. */
const SQL_LEAN_JSON = SQL_LEAN.replace("jsonb_to_recordset($2::jsonb)", "json_to_recordset($2::json)");

/** The columns as parallel arrays (sql-arr) or payloads as one JSON array (sql-elems); `ids`: plain INSERT, ids only. */
function arraySql(elems, ids) {
  const src = elems
    ? "ROWS FROM (unnest($2::text[]), jsonb_array_elements($3::jsonb), unnest($4::jsonb[], $5::text[], $6::text[], $7::timestamptz[]))"
    : "unnest($2::text[], $3::jsonb[], $4::jsonb[], $5::text[], $6::text[], $7::timestamptz[])";
  return `WITH ins AS (
  INSERT INTO "cutover".outbox (generation, topic, payload, headers, idempotency_key, ordering_key, available_at)
  SELECT $1, t.topic, t.payload, coalesce(t.headers, '{}'), t.key, t.okey, coalesce(t.at, now())
  FROM ${src}
    WITH ORDINALITY AS t(topic, payload, headers, key, okey, at, i)
  ORDER BY t.i
  ${ids ? "" : "ON CONFLICT (topic, idempotency_key) DO NOTHING\n  "}RETURNING id${ids ? "" : ", idempotency_key"}
), note AS (
  SELECT pg_notify($8, min(id)::text) FROM ins HAVING count(*) > 0 AND $9::boolean
)
${ids ? "SELECT string_agg(id::text, ',' ORDER BY id) AS ids, (SELECT count(*) FROM note) AS notified FROM ins" : "SELECT id::text AS id, idempotency_key, (SELECT count(*) FROM note) AS notified FROM ins"}`;
}

/** SQL_LEAN as a plain INSERT returning only the ids (sql-ids). */
const SQL_LEAN_IDS = SQL_LEAN.replace("  ON CONFLICT (topic, idempotency_key) DO NOTHING\n", "")
  .replace("RETURNING id, idempotency_key", "RETURNING id")
  .replace(
    "SELECT id::text AS id, idempotency_key, (SELECT count(*) FROM note) AS notified FROM ins",
    "SELECT string_agg(id::text, ',' ORDER BY id) AS ids, (SELECT count(*) FROM note) AS notified FROM ins",
  );

/** Parameters $2..$7 of arraySql for these payloads, as array literals built ahead (text[] of keys needs no quoting). */
function arraysFor(from, n, key, elems) {
  const ps = payloads(from, n).map((p) => JSON.stringify(p));
  const keys = ps.map(() => key());
  return [
    `{${ps.map(() => "bench.event").join(",")}}`,
    elems ? `[${ps.join(",")}]` : `{${ps.map((p) => JSON.stringify(p)).join(",")}}`,
    null,
    `{${keys.join(",")}}`,
    null,
    null,
  ];
}

function payloads(from, n) {
  return Array.from({ length: n }, (_, k) => ({
    seq: from + k,
    orderId: `ord-${from + k}`,
    amount: 4200,
    currency: "EUR",
  }));
}

/** The JSON document publisher.ts's encode() builds for these payloads. */
function documentFor(from, n, key, lean) {
  const parts = payloads(from, n).map((p, i) =>
    lean
      ? `{"topic":"bench.event","payload":${JSON.stringify(p)},"key":"${key()}"}`
      : `{"i":${i},"topic":"bench.event","payload":${JSON.stringify(p)},"headers":{},"key":${JSON.stringify(key())},"okey":null,"at":null}`,
  );
  return `[${parts.join(",")}]`;
}

async function run(adminUrl, variant, round) {
  const env =
    variant === "graphile"
      ? await (async () => {
          const url = await createDatabase(adminUrl, `pub_graphile_${round}`);
          const pool = new pg.Pool({ connectionString: url, max: CLIENTS });
          pool.on("error", () => {});
          return { url, pool, ctx: await graphile.setup(url, pool) };
        })()
      : await freshDatabase(adminUrl, `pub_${variant.replaceAll("-", "_")}_${round}`);
  const { pool, ctx } = env;
  try {
    if (variant.startsWith("sql") || variant.startsWith("lib")) {
      await pool.query("DROP INDEX IF EXISTS cutover.outbox_claimable");
      if (variant.includes("claimable")) await pool.query(CLAIMABLE);
      if (variant.includes("ccoll")) {
        await pool.query("DROP INDEX cutover.outbox_topic_idempotency_key");
        await pool.query(
          'CREATE UNIQUE INDEX outbox_topic_idempotency_key ON cutover.outbox (topic COLLATE "C", idempotency_key COLLATE "C")',
        );
      }
    }
    const v4 = variant.includes("v4");
    const key = v4 ? randomUUID : uuidv7;
    const nTx = Math.ceil(N / BATCH);
    let work;
    if (variant.startsWith("sql-arr") || variant.startsWith("sql-elems")) {
      const elems = variant.startsWith("sql-elems");
      const text = arraySql(elems, variant.includes("ids"));
      const params = Array.from({ length: nTx + CLIENTS }, (_, i) => arraysFor(i * BATCH, BATCH, key, elems));
      const channel = `cutover_${ctx.generation}`;
      work = (client, i) =>
        client.query({ name: "pub", text, values: [ctx.generation, ...params[i], channel, true] });
    } else if (variant === "sql-ids") {
      const docs = Array.from({ length: nTx + CLIENTS }, (_, i) => documentFor(i * BATCH, BATCH, key, true));
      const channel = `cutover_${ctx.generation}`;
      work = (client, i) =>
        client.query({ name: "pub", text: SQL_LEAN_IDS, values: [ctx.generation, docs[i], channel, true] });
    } else if (variant.startsWith("sql")) {
      const lean = variant.includes("lean");
      const docs = Array.from({ length: nTx + CLIENTS }, (_, i) => documentFor(i * BATCH, BATCH, key, lean));
      const notify = !variant.includes("nonotify");
      const channel = `cutover_${ctx.generation}`;
      work = (client, i) =>
        client.query({
          name: "pub",
          text: lean ? (variant.includes("json") ? SQL_LEAN_JSON : SQL_LEAN) : SQL,
          values: [ctx.generation, docs[i], channel, notify],
        });
    } else if (variant === "graphile") {
      work = (client, i) => graphile.insert(ctx, client, payloads(i * BATCH, BATCH));
    } else if (variant.startsWith("lib-base")) {
      if (!baseOutbox) throw new Error("lib-base needs --base-dist DIR");
      const publisher = await baseOutbox.createPublisher({
        events: baseOutbox.defineEvents(cutover.events.schemas),
        db: pool,
        generation: ctx.generation,
        schema: "cutover",
      });
      work = (client, i) =>
        publisher.publishBatch(
          client,
          payloads(i * BATCH, BATCH).map((payload) => ({ topic: "bench.event", payload })),
        );
    } else {
      work = (client, i) =>
        ctx.publisher.publishBatch(
          client,
          payloads(i * BATCH, BATCH).map((payload) =>
            v4
              ? { topic: "bench.event", payload, idempotencyKey: randomUUID() }
              : { topic: "bench.event", payload },
          ),
        );
    }
    // Warm-up: one transaction per connection (connects, plans, JIT), not timed.
    await parallel(CLIENTS, CLIENTS, (i) => inTx(pool, (c) => work(c, nTx + i)));
    const pm = await postmasterPid(pool).catch(() => undefined);
    const cpu0 = pm ? serverCpuMs(pm) : undefined;
    const { rows: l0 } = await pool.query("SELECT pg_current_wal_lsn()::text AS lsn");
    const cpuNode0 = process.cpuUsage();
    const t0 = nowMs();
    await parallel(nTx, CLIENTS, (i) => inTx(pool, (c) => work(c, i)));
    const ms = nowMs() - t0;
    const node = process.cpuUsage(cpuNode0);
    const { rows: l1 } = await pool.query(
      "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8 AS b",
      [l0[0].lsn],
    );
    const cpu1 = pm ? serverCpuMs(pm) : undefined;
    const rows = nTx * BATCH;
    return {
      rowsPerSec: (rows * 1000) / ms,
      walPerRow: l1[0].b / rows,
      serverUsPerRow: cpu0 !== undefined ? ((cpu1 - cpu0) * 1000) / rows : undefined,
      nodeUsPerRow: (node.user + node.system) / rows,
    };
  } finally {
    await pool.end();
    await dropDatabase(adminUrl, env.url.split("/").pop().split("?")[0]);
  }
}

const server = await startProfileServer();
const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
const loads = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]);
    for (const v of order) {
      const res = await run(server.adminUrl, v, r);
      results[v].push(res);
      process.stderr.write(
        `[publish r${r + 1}] ${v}: ${Math.round(res.rowsPerSec)} rows/s, WAL ${Math.round(res.walPerRow)} B/row, server ${res.serverUsPerRow?.toFixed(1)} us/row, node ${res.nodeUsPerRow.toFixed(1)} us/row, load ${load()}\n`,
      );
    }
    loads.push(load());
  }
} finally {
  await server.stop();
}

const fmt = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `**${median(s).toFixed(2)}x** (${s[0].toFixed(2)}-${s.at(-1).toFixed(2)}, ${s.length})`;
};
const base = VARIANTS.includes("graphile") ? "graphile" : VARIANTS[0];
out(
  `${N} rows in batches of ${BATCH}, ${CLIENTS} connections, ${ROUNDS} rounds; load at the end of each round: ${loads.join(" / ")}`,
);
out();
out(`| variant | rows/s (median) | / ${base}, paired | WAL B/row | server CPU us/row | Node CPU us/row |`);
out("|---|---|---|---|---|---|");
for (const v of VARIANTS) {
  const rs = results[v];
  const ratios = rs.map((x, i) => x.rowsPerSec / results[base][i].rowsPerSec);
  const m = (k) => median(rs.map((x) => x[k]).filter((x) => x !== undefined));
  out(
    `| ${v} | ${Math.round(m("rowsPerSec")).toLocaleString("en-US")} | ${v === base ? "1" : fmt(ratios)} | ${Math.round(m("walPerRow"))} | ${m("serverUsPerRow")?.toFixed(1) ?? "-"} | ${m("nodeUsPerRow").toFixed(1)} |`,
  );
}

const ref = args.ref;
if (ref && results[ref]) {
  out();
  out(`Paired against ${ref} (same round): median (min-max, rounds)`);
  out();
  out(`| variant | rows/s / ${ref} | server CPU/row / ${ref} | Node CPU/row / ${ref} |`);
  out("|---|---|---|---|");
  for (const v of VARIANTS) {
    if (v === ref) continue;
    const ratios = (k) =>
      results[v].map((x, i) => x[k] / results[ref][i][k]).filter((x) => Number.isFinite(x));
    const cpu = ratios("serverUsPerRow");
    out(
      `| ${v} | ${fmt(ratios("rowsPerSec"))} | ${cpu.length ? fmt(cpu) : "-"} | ${fmt(ratios("nodeUsPerRow"))} |`,
    );
  }
}
