import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { newestMtime } from "../../../../packages/outbox/test/support/build.js";

export const root = fileURLToPath(new URL("../../../../", import.meta.url));
export const cliPath = join(root, "apps/worker/dist/cli.js");
export const fixture = (name: string) => join(root, "apps/worker/test/fixtures", name);

/**
 * The environment of an `outbox-worker run` child in the e2e tests: the
 * fixture handlers, HTTP on 127.0.0.1:`port`, short poll, heartbeat, stale
 * and status intervals so the tests settle quickly; `extra` adds or overrides.
 */
export function workerEnv(
  databaseUrl: string,
  generation: number,
  port: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    CUTOVER_GENERATION: String(generation),
    OUTBOX_HANDLERS: fixture("handlers.mjs"),
    PORT: String(port),
    OUTBOX_HTTP_HOST: "127.0.0.1",
    OUTBOX_ENVIRONMENT: "test",
    OUTBOX_POLL_INTERVAL_MS: "200",
    OUTBOX_HEARTBEAT_INTERVAL_MS: "300",
    OUTBOX_STALE_AFTER_MS: "3000",
    OUTBOX_STATUS_INTERVAL_MS: "200",
    ...extra,
  };
}

/**
 * The e2e tests run the built CLI. `npm test` builds first; when dist/ is
 * older than the sources (a direct vitest run), build once, under a lock so
 * parallel test files never run tsc over each other.
 */
export function ensureBuilt(): void {
  const sources = Math.max(
    newestMtime(join(root, "apps/worker/src")),
    newestMtime(join(root, "packages/outbox/src")),
  );
  const fresh = () => existsSync(cliPath) && statSync(cliPath).mtimeMs >= sources;
  if (fresh()) return;
  const lock = join(root, ".cache", "worker-test-build.lock");
  mkdirSync(join(root, ".cache"), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      spawnSync("sleep", ["0.5"]);
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 180_000)
        rmSync(lock, { recursive: true, force: true });
    }
  }
  try {
    if (fresh()) return;
    const r = spawnSync("npx", ["tsc", "-b", "apps/worker"], { cwd: root, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tsc -b apps/worker failed:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** stdout lines that parse as JSON (the pino log). */
  logs: () => Array<Record<string, unknown>>;
  waitForLog(
    pred: (line: Record<string, unknown>) => boolean,
    what: string,
  ): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every byte any spawned process wrote, for the "password never printed" check. */
export const allOutput: string[] = [];

/** Spawns `node dist/cli.js ...args` with exactly `env` (plus PATH). */
export function spawnCli(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const waiters = new Set<() => void>();
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    allOutput.push(d.toString());
    for (const w of waiters) w();
  });
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
    allOutput.push(d.toString());
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      for (const w of waiters) w();
      resolve({ code, signal });
    }),
  );
  const logs = () =>
    out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    logs,
    exited,
    waitForLog(pred, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = logs().find(pred);
          if (hit) {
            waiters.delete(check);
            resolve(hit);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            reject(new Error(`process exited before logging ${what}\nstdout:\n${out}\nstderr:\n${err}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = spawnCli(args, env);
  const { code } = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

/**
 * A login role with a password, so the worker's DATABASE_URL carries a
 * secret the tests can search every output for. Superuser: the tests' own
 * database. drop() reassigns what it created to the admin and drops it.
 */
export async function passwordRole(adminUrl: string, dbUrl: string) {
  const name = `cutover_w_${randomBytes(4).toString("hex")}`;
  const password = `pw-${randomBytes(12).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE "${name}" LOGIN SUPERUSER PASSWORD '${password}'`);
  } finally {
    await admin.end();
  }
  const u = new URL(dbUrl);
  u.username = name;
  u.password = password;
  return {
    name,
    password,
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: dbUrl });
      await c.connect();
      try {
        await c.query(`REASSIGN OWNED BY "${name}" TO CURRENT_USER`);
        await c.query(`DROP OWNED BY "${name}"`);
      } finally {
        await c.end();
      }
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      try {
        await a.query(`DROP ROLE IF EXISTS "${name}"`);
      } finally {
        await a.end();
      }
    },
  };
}

export async function waitUntil<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
