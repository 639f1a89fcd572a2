// Shared by the profile scripts: a private PostgreSQL with pg_stat_statements
// preloaded, fresh databases with Cutover's schema and a backlog, and the
// counters every measurement reads (WAL position, server CPU, statement stats).
import { loadavg } from "node:os";
import pg from "pg";

export {
  postmasterPid,
  processCpuMs,
  serverCpuMs,
  walBytesSince,
  walLsn,
} from "../lib/resources.mjs";

import { createDatabase, EMBEDDED_FLAGS, settle, startServer } from "../lib/server.mjs";
import * as cutover from "../systems/cutover.mjs";
import * as limit from "../systems/limit.mjs";

export const out = (s = "") => process.stdout.write(`${s}\n`);

/**
 * Starts the private server (or adopts DATABASE_URL, which then needs
 * pg_stat_statements in shared_preload_libraries for the statement tables).
 * track_planning shows what prepared statements save; track_wal_io_timing
 * the time spent writing and syncing WAL.
 */
export async function startProfileServer() {
  EMBEDDED_FLAGS.push(
    "-c",
    "shared_preload_libraries=pg_stat_statements",
    "-c",
    "pg_stat_statements.track=all",
    "-c",
    "pg_stat_statements.track_planning=on",
    "-c",
    "track_wal_io_timing=on",
  );
  return startServer();
}

/** A fresh database with Cutover's schema; `prepare(client)` may change the schema before the backlog goes in. */
export async function freshDatabase(adminUrl, tag) {
  const url = await createDatabase(adminUrl, `prof_${tag}`);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on("error", () => {});
  await pool.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  const ctx = await cutover.setup(url, pool);
  return { url, pool, ctx };
}

/** `count` pending rows of the bench's event in one statement, then VACUUM ANALYZE and CHECKPOINT. */
export async function backlog(env, count) {
  await limit.prefillFast(env.ctx, env.url, count);
  await settle(env.url);
}

/** Resets the statement, WAL and table counters of this database's server. */
export async function resetCounters(pool) {
  await pool.query("SELECT pg_stat_statements_reset()");
  await pool.query("SELECT pg_stat_reset_shared('wal')");
  await pool.query("SELECT pg_stat_reset()");
}

export async function walStats(pool) {
  const { rows } = await pool.query(
    "SELECT wal_records::float8, wal_fpi::float8, wal_bytes::float8, wal_write::float8, wal_sync::float8, wal_write_time, wal_sync_time FROM pg_stat_wal",
  );
  return rows[0];
}

/** pg_stat_statements rows of the current database, heaviest first. */
export async function statementStats(pool) {
  const { rows } = await pool.query(
    `SELECT calls::float8, total_exec_time, total_plan_time, rows::float8, shared_blks_hit::float8,
            shared_blks_read::float8, shared_blks_dirtied::float8, shared_blks_written::float8,
            wal_records::float8, wal_fpi::float8, wal_bytes::float8, query
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY total_exec_time DESC`,
  );
  return rows;
}

export async function tableStats(pool) {
  const { rows } = await pool.query(
    `SELECT relname, n_tup_ins::float8 AS ins, n_tup_upd::float8 AS upd, n_tup_hot_upd::float8 AS hot,
            n_tup_del::float8 AS del
     FROM pg_stat_user_tables WHERE schemaname = 'cutover' ORDER BY relname`,
  );
  return rows;
}

export function load() {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ");
}

/** Per index of Cutover's tables: scans since the last reset and size. */
export async function indexStats(pool) {
  const { rows } = await pool.query(
    `SELECT s.relname AS table, s.indexrelname AS index, s.idx_scan::float8 AS scans,
            pg_relation_size(s.indexrelid)::float8 AS bytes
     FROM pg_stat_user_indexes s WHERE s.schemaname = 'cutover' AND s.relname IN ('outbox', 'event_handled')
     ORDER BY s.relname, s.indexrelname`,
  );
  return rows;
}

/**
 * Follows a forked tools/bench/worker.mjs over IPC: `state` (handled count,
 * first-handle time, last error, exited) and `next(type)`, which resolves on
 * the next message of that type and rejects if the worker exits first (one
 * that cannot start fails the run instead of hanging it).
 */
export function trackWorker(child, label) {
  const state = { handled: 0, first: undefined, error: undefined, exited: false };
  const waiting = new Map();
  child.on("message", (m) => {
    if (m.type === "progress") {
      state.handled = m.handled;
      state.first = m.first;
    } else if (m.type === "error") state.error = m.message;
    waiting.get(m.type)?.(m);
  });
  const exited = new Promise((r) =>
    child.once("exit", () => {
      state.exited = true;
      r();
    }),
  );
  const next = (type) =>
    Promise.race([
      new Promise((r) => waiting.set(type, r)),
      exited.then(() => {
        throw new Error(`worker (${label}) exited before "${type}": ${state.error ?? "no error sent"}`);
      }),
    ]);
  return { state, exited, next };
}
