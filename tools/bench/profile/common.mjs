// Shared by the profile scripts: a private PostgreSQL with pg_stat_statements
// preloaded, fresh databases with Cutover's schema and a backlog, and the
// counters every measurement reads (WAL position, server CPU, statement stats).
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import pg from "pg";
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

export async function walLsn(pool) {
  const { rows } = await pool.query("SELECT pg_current_wal_lsn()::text AS lsn");
  return rows[0].lsn;
}

export async function walBytesSince(pool, lsn) {
  const { rows } = await pool.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8 AS b", [
    lsn,
  ]);
  return rows[0].b;
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

function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // Fields after the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    return {
      ppid: Number(f[1]),
      self: Number(f[11]) + Number(f[12]),
      children: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return undefined;
  }
}

const TICK_MS = 10; // CLK_TCK is 100 on Linux x86-64.

/** The postmaster's pid, found through one of its background processes. */
export async function postmasterPid(pool) {
  const { rows } = await pool.query("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'");
  return procStat(rows[0].pid).ppid;
}

/**
 * CPU ms used by the whole server so far: the postmaster, its live children,
 * and (through the postmaster's cutime) the children that exited.
 */
export function serverCpuMs(postmaster) {
  const pm = procStat(postmaster);
  let ticks = pm ? pm.self + pm.children : 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(name);
    if (s && s.ppid === postmaster) ticks += s.self;
  }
  return ticks * TICK_MS;
}

export function load() {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ");
}

/** CPU ms used so far by one process (not its children). */
export function processCpuMs(pid) {
  const s = procStat(pid);
  return s ? s.self * TICK_MS : Number.NaN;
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
