#!/usr/bin/env node
// Where Cutover's publish-commit -> handler-start latency goes, one event at a
// time, in one process: notification received, claim returned, handler start;
// then the server side of the measured events' statements (pg_stat_statements:
// calls, mean plan and executor time), the first tenth of the events being
// warm-up (not counted). Uses DATABASE_URL (an admin URL; a fresh database is
// created; per-statement times need pg_stat_statements preloaded there) or the
// embedded server (started with it). Usage:
// node tools/bench/latency-probe.mjs [--n 500] [--cutover '{json options}']
import { parseArgs } from "node:util";
import pg from "pg";
import { z } from "zod";
import * as outbox from "../../packages/outbox/dist/index.js";
import { channelFor } from "../../packages/outbox/dist/internal.js";
import { probeSetup } from "./lib/probe.mjs";
import { EMBEDDED_FLAGS } from "./lib/server.mjs";

const { values } = parseArgs({
  options: { n: { type: "string", default: "500" }, cutover: { type: "string", default: "{}" } },
});
const N = Number(values.n);
const WARMUP = Math.floor(N / 10);
EMBEDDED_FLAGS.push(
  "-c",
  "shared_preload_libraries=pg_stat_statements",
  "-c",
  "pg_stat_statements.track_planning=on",
);
const { server, url, events, pool, generation, publisher } = await probeSetup("latprobe", {
  "probe.ping": z.object({ seq: z.number() }),
});
const now = () => performance.now();
const marks = new Map();
let started;
const handler = outbox.defineHandler(events, {
  name: "probe.h",
  topics: ["probe.ping"],
  handle: async (e) => {
    marks.get(e.payload.seq).start = now();
    started?.();
  },
});
const consumer = outbox.createConsumer({
  databaseUrl: url,
  generation,
  handlers: [handler],
  ...JSON.parse(values.cutover),
});
let cur;
consumer.on("claimed", () => {
  if (cur) cur.claimed = now();
});
await consumer.start();
// A second, plain LISTEN connection: when the notification reaches a client.
const listen = new pg.Client({ connectionString: url });
await listen.connect();
await listen.query(`LISTEN "${channelFor("cutover", generation)}"`);
listen.on("notification", () => {
  if (cur && cur.notified === undefined) cur.notified = now();
});
await new Promise((r) => setTimeout(r, 300));
const stats = await pool
  .query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
  .then(() => true)
  .catch(() => false);
for (let seq = 0; seq < N; seq++) {
  if (seq === WARMUP && stats) await pool.query("SELECT pg_stat_statements_reset()");
  const m = {};
  marks.set(seq, m);
  cur = m;
  const c = await pool.connect();
  await c.query("BEGIN");
  await publisher.publish(c, "probe.ping", { seq });
  const p = new Promise((r) => {
    started = r;
  });
  await c.query("COMMIT");
  m.commit = now();
  c.release();
  await p;
}
const statRows = stats
  ? (
      await pool.query(
        `SELECT calls::int, plans::int, total_exec_time / calls AS exec, total_plan_time / greatest(plans, 1) AS plan, query
         FROM pg_stat_statements WHERE calls > 0 AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
         ORDER BY calls DESC, total_exec_time DESC LIMIT 12`,
      )
    ).rows
  : [];
await consumer.stop();
await listen.end();
await pool.end();
const pct = (xs, q) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const ms = [...marks.values()].slice(WARMUP);
process.stdout.write(`${ms.length} events after ${WARMUP} warm-up ones\n`);
const row = (label, f) => {
  const xs = ms.map(f).filter((x) => Number.isFinite(x));
  process.stdout.write(
    `${label.padEnd(32)} p50 ${pct(xs, 0.5).toFixed(3)}  p90 ${pct(xs, 0.9).toFixed(3)}  p99 ${pct(xs, 0.99).toFixed(3)} ms\n`,
  );
};
row("commit -> notification", (m) => m.notified - m.commit);
row("notification -> claim returned", (m) => m.claimed - m.notified);
row("claim -> handler start", (m) => m.start - m.claimed);
row("commit -> handler start", (m) => m.start - m.commit);
if (statRows.length > 0) {
  process.stdout.write("\nserver side of the measured events (pg_stat_statements), ms per call:\n");
  for (const r of statRows) {
    const text = r.query.replace(/\s+/g, " ").slice(0, 70);
    process.stdout.write(
      `${String(r.calls).padStart(6)} calls ${String(r.plans).padStart(6)} plans  plan ${r.plan.toFixed(3)}  exec ${r.exec.toFixed(3)}  ${text}\n`,
    );
  }
}
await server.stop();
