/**
 * Where the CPU went during a scenario (Linux /proc): user+system time per
 * role (Postgres backends, worker processes, publisher processes, the test
 * runner, everything else on the machine) between two snapshots, as cores
 * used on average. The load scenario reports it, to say which process
 * saturates first.
 */
import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";

export type Role = "postgres" | "workers" | "publishers" | "runner" | "other";

export interface CpuSnapshot {
  at: number;
  /** pid -> [role, ticks] */
  procs: Map<number, [Role, number]>;
  /** Busy and total jiffies of the whole machine (/proc/stat). */
  busy: number;
  total: number;
}

/**
 * `postgresPort`: the scenario's server; its postmaster (started with
 * `-p <port>`) and that postmaster's children are "postgres". Other
 * PostgreSQL servers on the machine count as "other".
 */
export function snapshot(postgresPort: number): CpuSnapshot {
  let postmaster = -1;
  const procs = new Map<number, [Role, number]>();
  const raw: Array<{ pid: number; ppid: number; ticks: number; cmd: string }> = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\u0000");
      raw.push({ pid, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), cmd: cmd.join(" ") });
      if (cmd.some((c) => c.endsWith("/postgres")) && cmd[cmd.indexOf("-p") + 1] === String(postgresPort)) {
        postmaster = pid;
      }
    } catch {
      // exited meanwhile
    }
  }
  for (const p of raw) {
    let role: Role = "other";
    if (p.pid === process.pid) role = "runner";
    else if (p.pid === postmaster || p.ppid === postmaster) role = "postgres";
    else if (p.cmd.includes("publisher.mjs")) role = "publishers";
    else if (p.cmd.includes("worker.mjs") || p.cmd.includes("dist/cli.js")) role = "workers";
    procs.set(p.pid, [role, p.ticks]);
  }
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { at: Date.now(), procs, busy: total - idle, total };
}

/** Cores used per role between `a` and `b` (processes alive at both), and the machine's busy share. */
export function usage(a: CpuSnapshot, b: CpuSnapshot): { cores: Record<Role, number>; machineBusy: number } {
  const hz = 100;
  const seconds = (b.at - a.at) / 1000;
  const cores: Record<Role, number> = { postgres: 0, workers: 0, publishers: 0, runner: 0, other: 0 };
  for (const [pid, [role, ticks]] of b.procs) {
    const before = a.procs.get(pid)?.[1] ?? 0;
    cores[role] += (ticks - before) / hz / seconds;
  }
  for (const k of Object.keys(cores) as Role[]) cores[k] = Math.round(cores[k] * 100) / 100;
  const machineBusy = b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
  return { cores, machineBusy: Math.round(machineBusy * 100) / 100 };
}

export const coreCount = cpus().length;
