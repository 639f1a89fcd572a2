/**
 * `outbox-worker run` against a database that is not there yet (issue 7,
 * "a wrong DATABASE_URL"): the real built CLI as a child process, a private
 * embedded Postgres that is stopped and started under it.
 *
 * The server is prepared first (migrated, generation 1 allocated, a password
 * role created) and then stopped, so the worker meets a port where nothing
 * listens; starting it again is "the database arrives". Preparing it before
 * the worker can see it keeps the test free of a race with the worker's
 * schema check (a worker that connects to an unmigrated schema exits 1 with
 * SCHEMA_BEHIND, by design).
 */
import { randomBytes } from "node:crypto";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { allocateGeneration, migrate } from "@cutover/outbox";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startEmbedded } from "../../../test/harness/postgres-server.js";
import { createEffectsTable, effectCount, publish } from "./support/outbox.js";
import { ensureBuilt, type Run, spawnCli, waitUntil, workerEnv } from "./support/process.js";

let server: Awaited<ReturnType<typeof startEmbedded>>;
const role = `cutover_startup_${randomBytes(3).toString("hex")}`;
const password = `pw-${randomBytes(12).toString("hex")}`;
let roleUrl: string;
const spawned: Run[] = [];

/** The worker's environment, serving generation 1 (allocated in beforeAll). */
const env = (databaseUrl: string, httpPort: number, extra: Record<string, string> = {}) =>
  workerEnv(databaseUrl, 1, httpPort, extra);

function spawn(e: Record<string, string>): Run {
  const r = spawnCli(["run"], e);
  spawned.push(r);
  return r;
}

const retryLines = (r: Run) => r.logs().filter((l) => l.msg === "database not reachable; retrying");

interface Answer {
  status?: string;
  ready?: boolean;
  checks?: { database: { ok: boolean; lastError?: string } };
}

async function getJson(port: number, path: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: (await res.json()) as Answer };
}

/** A URL on a port where nothing listens. */
async function deadUrl(): Promise<string> {
  return `postgres://${role}:${password}@127.0.0.1:${await freePort()}/postgres`;
}

beforeAll(async () => {
  ensureBuilt();
  server = await startEmbedded();
  await migrate({ databaseUrl: server.adminUrl });
  const admin = new pg.Pool({ connectionString: server.adminUrl, max: 1 });
  // pool.end() may resolve before the server saw the goodbye; the pause
  // right after then reaches the closing client as 57P01.
  admin.on("error", () => {});
  try {
    expect((await allocateGeneration(admin, { version: "v-startup" })).generation).toBe(1);
    await createEffectsTable(admin);
    await admin.query(`CREATE ROLE "${role}" LOGIN SUPERUSER PASSWORD '${password}'`);
  } finally {
    await admin.end();
  }
  const u = new URL(server.adminUrl);
  u.username = role;
  u.password = password;
  roleUrl = u.toString();
  await server.pause();
}, 60_000);

afterAll(async () => {
  for (const r of spawned)
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
  await server?.stop();
});

describe("outbox-worker run waits for a database that is not there yet", () => {
  it("retries with a logged cause per attempt, answers /health 'starting' and /ready 503, then serves once Postgres starts", async () => {
    const httpPort = await freePort();
    const worker = spawn(env(roleUrl, httpPort));
    await worker.waitForLog(() => retryLines(worker).length >= 2, "two retry lines");
    const lines = retryLines(worker);
    expect(lines.map((l) => l.attempt)).toEqual(lines.map((_, i) => i + 1));
    for (const l of lines) {
      expect(l.cause).toMatch(/ECONNREFUSED/);
      expect(l.code).toBe("ECONNREFUSED");
      expect(l.next_delay_ms).toBeGreaterThan(0);
      expect(l.level).toBe("warn");
      expect(l.database).toBe(roleUrl.replace(password, "***"));
    }
    const health = await getJson(httpPort, "/health");
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("starting");
    expect(health.body.checks?.database.ok).toBe(false);
    expect(health.body.checks?.database.lastError).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify(health.body)).not.toContain(password);
    const ready = await getJson(httpPort, "/ready");
    expect(ready.status).toBe(503);
    expect(ready.body.ready).toBe(false);

    await server.restart();
    await worker.waitForLog((l) => l.msg === "worker running", "worker running");
    await waitUntil("ready", async () => (await getJson(httpPort, "/ready")).status === 200);
    expect((await getJson(httpPort, "/health")).body.status).not.toBe("starting");

    const pool = new pg.Pool({ connectionString: server.adminUrl, max: 1 });
    pool.on("error", () => {});
    try {
      const [id] = await publish(pool, 1, "order.placed", 1);
      await worker.waitForLog((l) => l.msg === "event handled" && l.event_id === id, "event handled");
      expect(await effectCount(pool, 1)).toBe(1);
    } finally {
      await pool.end();
    }
    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).toBe(0);
    expect(`${worker.stdout()}${worker.stderr()}`).not.toContain(password);
  }, 45_000);

  it("a wrong password exits at once with exit code 3 naming authentication, never printing the password", async () => {
    const wrong = `wrong-${randomBytes(12).toString("hex")}`;
    const u = new URL(roleUrl);
    u.password = wrong;
    const worker = spawn(env(u.toString(), 0));
    const { code, signal } = await worker.exited;
    const out = `${worker.stdout()}${worker.stderr()}`;
    expect(signal).toBeNull();
    expect(code, out).toBe(3);
    expect(worker.stderr()).toMatch(
      /^outbox-worker: DATABASE_REJECTED: .*authentication failed.*28P01.*not retrying\n$/,
    );
    expect(retryLines(worker)).toEqual([]);
    expect(out).not.toContain(wrong);
    expect(out).not.toContain(password);
  });

  it("a missing database exits at once with exit code 3, no retry", async () => {
    const u = new URL(roleUrl);
    u.pathname = "/cutover_no_such_db";
    const worker = spawn(env(u.toString(), 0));
    expect((await worker.exited).code).toBe(3);
    expect(worker.stderr()).toMatch(/database does not exist: .*cutover_no_such_db.*3D000/);
    expect(retryLines(worker)).toEqual([]);
  });

  it("past OUTBOX_STARTUP_TIMEOUT_MS it exits 4 naming the last cause; 0 means one attempt", async () => {
    const slow = spawn(env(await deadUrl(), 0, { OUTBOX_STARTUP_TIMEOUT_MS: "1500" }));
    const once = spawn(env(await deadUrl(), 0, { OUTBOX_STARTUP_TIMEOUT_MS: "0" }));
    for (const [worker, minRetries] of [
      [slow, 1],
      [once, 0],
    ] as const) {
      const { code } = await worker.exited;
      expect(code, worker.stderr()).toBe(4);
      expect(worker.stderr()).toMatch(
        /^outbox-worker: DATABASE_UNAVAILABLE: database .* not reachable after \d+ attempt\(s\) .*OUTBOX_STARTUP_TIMEOUT_MS.*ECONNREFUSED/,
      );
      expect(retryLines(worker).length).toBeGreaterThanOrEqual(minRetries);
      if (minRetries === 0) expect(retryLines(worker)).toEqual([]);
      expect(`${worker.stdout()}${worker.stderr()}`).not.toContain(password);
    }
  });

  it("SIGTERM while retrying exits 0 without waiting out the backoff or the deadline", async () => {
    const worker = spawn(env(await deadUrl(), 0, { OUTBOX_STARTUP_TIMEOUT_MS: "600000" }));
    await worker.waitForLog(() => retryLines(worker).length >= 1, "a retry line");
    worker.child.kill("SIGTERM");
    const { code, signal } = await worker.exited;
    expect(signal).toBeNull();
    expect(code, worker.stderr()).toBe(0);
    expect(worker.logs().some((l) => l.msg === "stopped while waiting for the database")).toBe(true);
    expect(worker.stderr()).not.toMatch(/handles still open/);
  }, 20_000);

  it("SIGTERM in the middle of a connect to a server that never answers exits 0 (the socket is dropped)", async () => {
    // Accepts TCP and stays silent: the worker's connect attempt hangs on the startup handshake.
    const sockets = new Set<Socket>();
    const silent = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const pgPort = (silent.address() as AddressInfo).port;
      const httpPort = await freePort();
      const worker = spawn(
        env(`postgres://${role}:${password}@127.0.0.1:${pgPort}/postgres`, httpPort, {
          OUTBOX_STARTUP_TIMEOUT_MS: "600000",
        }),
      );
      await waitUntil("the first connect in progress", async () => sockets.size === 1);
      const health = await getJson(httpPort, "/health");
      expect(health.body.status).toBe("starting");
      expect(retryLines(worker)).toEqual([]);
      worker.child.kill("SIGTERM");
      const { code, signal } = await worker.exited;
      expect(signal).toBeNull();
      expect(code, worker.stderr()).toBe(0);
      expect(worker.logs().find((l) => l.msg === "stopped while waiting for the database")).toMatchObject({
        attempts: 1,
      });
      expect(worker.stderr()).toBe("");
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
