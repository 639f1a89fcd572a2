// Counters read from outside the measured processes: WAL position, and CPU
// from /proc (the database server's processes, one process). Shared by
// run.mjs (the bench's per-event figures) and the profile scripts.
import { readdirSync, readFileSync } from "node:fs";

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

/** utime+stime (self, children) and ppid of a process, from /proc; undefined when unreadable. */
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
  return procStat(rows[0]?.pid)?.ppid;
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

/** CPU ms used so far by one process (not its children). */
export function processCpuMs(pid) {
  const s = procStat(pid);
  return s ? s.self * TICK_MS : Number.NaN;
}

/**
 * The postmaster's pid when the server runs on this machine and its
 * processes are readable here (the bench's private server); null otherwise
 * (a DATABASE_URL elsewhere, or in a container), when server CPU is not shown.
 */
export async function localPostmaster(pool) {
  try {
    const pid = await postmasterPid(pool);
    return Number.isInteger(pid) && pid > 1 && serverCpuMs(pid) >= 0 ? pid : null;
  } catch {
    return null;
  }
}
