import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { allocateGeneration, createConsumer, migrate } from "@cutover/outbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../harness/db.js";
import { freePort } from "../harness/postgres-server.js";

/**
 * The DATABASE_URL password of a real password role must never appear in
 * anything the worker or the library emits: logs (at debug level), error
 * messages and stacks, ops command output, /health, /ready, /metrics.
 * Everything captured is grepped for the password, raw and URL-encoded.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(root, "apps/worker/dist/cli.js");
const handlers = fileURLToPath(new URL("./fixtures/handlers.mjs", import.meta.url));
const db = useTestDatabase();
const role = `cutover_sec_${randomBytes(4).toString("hex")}`;
const password = `Pw-${randomBytes(9).toString("base64url")}!s3cret`;
let url: string;
let generation: number;
const captured: string[] = [];
let worker: ChildProcess | undefined;

beforeAll(async () => {
  execFileSync("npx", ["tsc", "-b", "apps/worker"], { cwd: root, stdio: "ignore" });
  const pool = db.current.pool;
  await pool.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await pool.query(`GRANT CREATE ON DATABASE "${db.current.name}" TO ${role}`);
  await pool.query(`GRANT USAGE, CREATE ON SCHEMA cutover TO ${role}`);
  await pool.query(`GRANT ALL ON ALL TABLES IN SCHEMA cutover TO ${role}`);
  await pool.query(`GRANT ALL ON ALL SEQUENCES IN SCHEMA cutover TO ${role}`);
  const u = new URL(db.current.url);
  u.username = role;
  u.password = encodeURIComponent(password);
  url = u.toString();
  generation = (await allocateGeneration(pool, { version: "security" })).generation;
});

afterAll(async () => {
  worker?.kill("SIGKILL");
  const pool = db.current.pool;
  await pool.query(`REASSIGN OWNED BY ${role} TO CURRENT_USER`).catch(() => {});
  await pool.query(`DROP OWNED BY ${role}`).catch(() => {});
  await pool.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
});

function expectNoSecret(text: string, where: string) {
  expect(text.length, `${where} captured nothing`).toBeGreaterThan(0);
  for (const needle of [password, encodeURIComponent(password)]) {
    expect(
      text.includes(needle),
      `${where} contains the DATABASE_URL password:\n${text.slice(0, 3000)}`,
    ).toBe(false);
  }
}

function runCli(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    env: { ...process.env, LOG_LEVEL: "debug", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  captured.push(out);
  return { status: r.status, out };
}

describe("no secret in logs, errors, /health or /metrics", () => {
  it("a running worker: debug logs, /health, /ready and /metrics never show the password", async () => {
    const port = await freePort();
    let out = "";
    worker = spawn(process.execPath, [cli, "run"], {
      env: {
        ...process.env,
        DATABASE_URL: url,
        CUTOVER_GENERATION: String(generation),
        OUTBOX_HANDLERS: handlers,
        PORT: String(port),
        OUTBOX_HTTP_HOST: "127.0.0.1",
        LOG_LEVEL: "debug",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    worker.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    worker.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => worker!.once("exit", (code) => r(code)));
    const bodies: string[] = [];
    const until = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
      if (ready?.status === 200) break;
      if (Date.now() > until) throw new Error(`worker never ready:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const path of ["/health", "/ready", "/metrics"]) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      const body = await res.text();
      expect(res.status, path).toBe(200);
      bodies.push(body);
      expectNoSecret(body, path);
    }
    expect(bodies[0]).toContain(String(generation));
    worker.kill("SIGTERM");
    expect(await exited).toBe(0);
    worker = undefined;
    captured.push(out, ...bodies);
    expectNoSecret(out, "worker logs");
  });

  it("ops commands (migrate, status, dead list) print no password", () => {
    for (const args of [["migrate"], ["status"], ["status", "--json"], ["dead", "list"]]) {
      const r = runCli(args, { DATABASE_URL: url });
      expect(r.status, `${args.join(" ")}: ${r.out}`).toBe(0);
      expectNoSecret(r.out, `outbox-worker ${args.join(" ")}`);
    }
  });

  it("failures print no password: unknown database, unreachable host, malformed URL", async () => {
    const missingDb = new URL(url);
    missingDb.pathname = "/no_such_database_x";
    const unreachable = new URL(url);
    unreachable.port = String(await freePort());
    // One connection attempt: the worker prints its final error (the URL redacted) and exits non-zero
    // by itself. (With the default 60 s start-up wait, runCli's 30 s timeout killed it mid-wait, so
    // the final error was never printed, and a graceful stop on that SIGTERM made the exit code 0.)
    const env = {
      CUTOVER_GENERATION: String(generation),
      OUTBOX_HANDLERS: handlers,
      PORT: "0",
      OUTBOX_STARTUP_TIMEOUT_MS: "0",
    };
    for (const bad of [
      missingDb.toString(),
      unreachable.toString(),
      `postgres://${role}:${password}@`,
      `mysql://${role}:${password}@h/db`,
    ]) {
      const run = runCli(["run"], { ...env, DATABASE_URL: bad });
      expect(run.status, run.out).toBeGreaterThan(0);
      expect(run.out).toMatch(/^outbox-worker: /m);
      expectNoSecret(run.out, `outbox-worker run with ${bad.replace(password, "***")}`);
      const status = runCli(["status"], { DATABASE_URL: bad });
      expect(status.status).not.toBe(0);
      expectNoSecret(status.out, "outbox-worker status");
    }
  });

  it("library errors (message, stack, inspect, JSON) carry no password", async () => {
    const missingDb = new URL(url);
    missingDb.pathname = "/no_such_database_x";
    const errors: unknown[] = [];
    await migrate({ databaseUrl: missingDb.toString() }).catch((e: unknown) => errors.push(e));
    const consumer = createConsumer({
      databaseUrl: missingDb.toString(),
      generation,
      handlers: [{ name: "security.noop", topics: ["security.ping"], handle: async () => {} }],
    });
    await consumer.start().catch((e: unknown) => errors.push(e));
    await consumer.stop();
    expect(errors).toHaveLength(2);
    for (const e of errors) {
      const text = [
        String(e),
        (e as Error).stack ?? "",
        inspect(e, { depth: 5 }),
        JSON.stringify(e) ?? "",
      ].join("\n");
      captured.push(text);
      expectNoSecret(text, "library error");
    }
  });

  it("all captured output together contains no password", () => {
    expectNoSecret(captured.join("\n"), "all captured output");
  });
});
