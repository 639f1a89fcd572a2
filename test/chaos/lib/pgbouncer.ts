/**
 * A real PgBouncer (the Debian `pgbouncer` package) in front of the rig's
 * server, in transaction pool mode with a small server pool, so client
 * transactions really are multiplexed over fewer server connections.
 * `findPgBouncer()` says why it cannot run when the binary is missing.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "../../harness/postgres-server.js";

const CANDIDATES = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"];

/** The binary and its version, or the reason there is none. */
export function findPgBouncer(): { bin: string; version: string } | { missing: string } {
  const bin = process.env.PGBOUNCER_BIN ?? CANDIDATES.find((c) => existsSync(c));
  if (!bin)
    return { missing: `no pgbouncer binary (${CANDIDATES.join(", ")}; apt-get install -y pgbouncer)` };
  try {
    const out = execFileSync(bin, ["--version"], { encoding: "utf8" });
    return { bin, version: out.split("\n")[0]!.trim() };
  } catch (err) {
    return { missing: `${bin} --version failed: ${(err as Error).message}` };
  }
}

export interface PgBouncer {
  readonly port: number;
  readonly version: string;
  /** `url` (a database URL of the rig's server) pointing at PgBouncer instead. */
  url(url: string): string;
  /** SHOW STATS / SHOW POOLS of the admin console, for the database `db`. */
  stats(db: string): Promise<{ transactions: number; serverConnections: number; poolMode: string }>;
  log(): string;
  stop(): Promise<void>;
}

export async function startPgBouncer(target: {
  port: number;
  user: string;
  password: string;
  poolSize: number;
}): Promise<PgBouncer> {
  const found = findPgBouncer();
  if ("missing" in found) throw new Error(found.missing);
  const dir = mkdtempSync(join(tmpdir(), "cutover-pgbouncer-"));
  // PgBouncer refuses to run as root: it drops to `nobody`, who must read the config.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const ini = join(dir, "pgbouncer.ini");
  const users = join(dir, "users.txt");
  const logfile = join(dir, "pgbouncer.log");
  writeFileSync(users, `"${target.user}" "${target.password}"\n`);
  writeFileSync(
    ini,
    [
      "[databases]",
      `* = host=127.0.0.1 port=${target.port}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${users}`,
      `admin_users = ${target.user}`,
      "pool_mode = transaction",
      `default_pool_size = ${target.poolSize}`,
      "max_client_conn = 500",
      `logfile = ${logfile}`,
      "",
    ].join("\n"),
  );
  for (const f of [ini, users]) chmodSync(f, 0o644);
  writeFileSync(logfile, "");
  chmodSync(logfile, 0o666);
  const args = process.getuid?.() === 0 ? ["-u", "nobody", ini] : [ini];
  const child: ChildProcess = spawn(found.bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const collect = (d: Buffer) => {
    out += d.toString();
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const log = () => `${out}${existsSync(logfile) ? readFileSync(logfile, "utf8") : ""}`;
  const admin = () =>
    new pg.Client({ host: "127.0.0.1", port, user: target.user, database: "pgbouncer", password: "" });
  // Up once its admin console answers.
  for (let i = 0; ; i++) {
    const c = admin();
    c.on("error", () => {});
    try {
      await c.connect();
      await c.query("SHOW VERSION");
      await c.end();
      break;
    } catch (err) {
      await c.end().catch(() => {});
      if (i > 100 || child.exitCode !== null)
        throw new Error(`pgbouncer did not start: ${(err as Error).message}\n${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    version: found.version,
    url(url: string) {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    async stats(db: string) {
      const c = admin();
      c.on("error", () => {});
      await c.connect();
      try {
        const stats = (await c.query("SHOW STATS")).rows as Array<Record<string, string>>;
        const pools = (await c.query("SHOW POOLS")).rows as Array<Record<string, string>>;
        const s = stats.find((r) => r.database === db);
        const p = pools.filter((r) => r.database === db);
        return {
          transactions: Number(s?.total_xact_count ?? 0),
          serverConnections: p.reduce(
            (n, r) => n + Number(r.sv_active ?? 0) + Number(r.sv_idle ?? 0) + Number(r.sv_used ?? 0),
            0,
          ),
          poolMode: p[0]?.pool_mode ?? "?",
        };
      } finally {
        await c.end().catch(() => {});
      }
    },
    log,
    async stop() {
      if (child.exitCode === null) child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
