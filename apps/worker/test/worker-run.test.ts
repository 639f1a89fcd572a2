/**
 * `outbox-worker run` end to end: the real built CLI as a child process
 * against the real per-file test database, fed through the library's publisher.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { freePort } from "../../../test/harness/postgres-server.js";
import {
  createEffectsTable,
  effectCount,
  newGeneration,
  publish,
  TRACE_ID,
  TRACEPARENT,
} from "./support/outbox.js";
import {
  allOutput,
  ensureBuilt,
  passwordRole,
  type Run,
  runCli,
  spawnCli,
  waitUntil,
  workerEnv,
} from "./support/process.js";

const db = useTestDatabase();
let role: Awaited<ReturnType<typeof passwordRole>>;
let generation: number;
let port: number;
let worker: Run;

const baseEnv = () =>
  workerEnv(role.url, generation, port, {
    OUTBOX_BACKOFF_BASE_MS: "50",
    OUTBOX_BACKOFF_MAX_MS: "100",
    FIXTURE_FAIL_TOPIC: "order.cancelled",
  });

const get = async (path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
};

/**
 * /health and /metrics serve a status sample taken every
 * OUTBOX_STATUS_INTERVAL_MS: wait for one taken after now, so what the
 * previous test settled is in it.
 */
async function freshStatusSample(): Promise<void> {
  const after = Date.now();
  await waitUntil("a status sample taken after the previous test settled", async () => {
    const body = JSON.parse((await get("/health")).text) as { checks?: { lag?: { sampledAt?: string } } };
    return Date.parse(body.checks?.lag?.sampledAt ?? "") > after || undefined;
  });
}

/** The value of the one sample of `name` whose labels include `labels` (throws unless exactly one matches). */
function metric(text: string, name: string, labels: Record<string, string>): number {
  const hits = text.split("\n").filter((line) => {
    const m = /^([a-z_]+)(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== name) return false;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    return Object.entries(labels).every(([k, v]) => have[k] === v);
  });
  if (hits.length !== 1) throw new Error(`${hits.length} samples of ${name} ${JSON.stringify(labels)}`);
  return Number(hits[0]!.split(" ").at(-1));
}

beforeAll(async () => {
  ensureBuilt();
  role = await passwordRole(inject("pgAdminUrl"), db.current.url);
  await createEffectsTable(db.current.pool);
  generation = await newGeneration(db.current.pool, "v-run-test");
  port = await freePort();
  worker = spawnCli(["run"], baseEnv());
  await worker.waitForLog((l) => l.msg === "worker running", "worker running");
});

afterAll(async () => {
  if (worker && worker.child.exitCode === null) worker.child.kill("SIGKILL");
  await role?.drop();
});

describe("outbox-worker run", () => {
  it("is ready once registered and listening, and its workers row is running", async () => {
    const ready = await get("/ready");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text)).toMatchObject({ ready: true, generation });
    const { rows } = await db.current.pool.query("SELECT status, generation, version FROM cutover.workers");
    expect(rows).toEqual([{ status: "running", generation, version: "v-run-test" }]);
  });

  it("handles events published through the library, one JSON log line each with the envelope", async () => {
    const ids = await publish(db.current.pool, generation, "order.placed", 5, {
      traceparent: TRACEPARENT,
      tenant_id: "tenant-42",
    });
    await waitUntil("5 effects", async () => (await effectCount(db.current.pool)) === 5);
    const lines = await waitUntil("5 handled lines", async () => {
      const l = worker.logs().filter((x) => x.msg === "event handled");
      return l.length === 5 ? l : undefined;
    });
    expect(lines.map((l) => l.event_id).sort()).toEqual([...ids].sort());
    for (const line of lines) {
      expect(line).toMatchObject({
        level: "info",
        service: "outbox-worker",
        environment: "test",
        generation,
        worker_id: expect.any(String),
        trace_id: TRACE_ID,
        tenant_id: "tenant-42",
        event_type: "order.placed",
        handlers: ["fixture.record"],
      });
    }
    // Completed by delete (the default): each row gone, with its event_handled row.
    const { rows } = await db.current.pool.query(
      `SELECT count(*)::int AS n FROM unnest($1::bigint[]) AS t(id)
        WHERE NOT EXISTS (SELECT 1 FROM cutover.outbox o WHERE o.id = t.id)
          AND EXISTS (SELECT 1 FROM cutover.event_handled h WHERE h.event_id = t.id)`,
      [ids],
    );
    expect(rows[0].n).toBe(5);
  });

  it("sends a permanently failing event dead, logs it, and `dead list` / `dead retry` see it", async () => {
    const [id] = await publish(db.current.pool, generation, "order.cancelled", 1);
    const line = await worker.waitForLog((l) => l.msg === "event dead" && l.event_id === id, "event dead");
    expect(line).toMatchObject({ level: "error", event_type: "order.cancelled", handler: "fixture.record" });
    const env = { DATABASE_URL: role.url };
    const list = await runCli(["dead", "list", "--json"], env);
    expect(list.code).toBe(0);
    const dead = JSON.parse(list.stdout) as Array<{ id: string; topic: string; lastError: string }>;
    expect(dead.map((d) => d.id)).toEqual([id]);
    expect(dead[0]!.lastError).toContain("refusing order.cancelled");
    const table = await runCli(["dead", "list"], env);
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s+${generation}\\s+order\\.cancelled`, "m"));
    const retry = await runCli(["dead", "retry", id!], env);
    expect(retry).toMatchObject({ code: 0, stdout: "requeued 1 dead event(s)\n" });
    // The retried event fails again (the handler still refuses it) and is dead again: requeued, not lost.
    await waitUntil("dead again", async () => {
      const n = worker.logs().filter((l) => l.msg === "event dead" && l.event_id === id).length;
      return n === 2;
    });
  });

  it("serves /health with every feature's wiring and an overall status", async () => {
    await freshStatusSample();
    const res = await get("/health");
    expect(res.status).toBe(200);
    expect(res.type).toContain("application/json");
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({
      status: "ok",
      service: "outbox-worker",
      version: "v-run-test",
      workerVersion: expect.any(String),
      generation,
      workerId: expect.any(String),
      state: "running",
      uptimeMs: expect.any(Number),
      checks: {
        database: { ok: true },
        listen: { ok: true, enabled: true, connected: true },
        heartbeat: { ok: true, lastBeatAt: expect.any(String) },
        reaper: { ok: true, lastRunAt: expect.any(String), lastReaped: 0 },
        poller: { ok: true, lastPollAt: expect.any(String) },
        lag: { ok: true, oldestPendingAgeMs: null, pending: 0, inFlight: 0, sampledAt: expect.any(String) },
      },
      relays: {},
    });
    expect((await get("/nope")).status).toBe(404);
  });

  it("serves Prometheus metrics: counters by topic and handler, batch sizes, durations, backlog by generation", async () => {
    await freshStatusSample();
    const res = await get("/metrics");
    expect(res.status).toBe(200);
    expect(res.type).toContain("text/plain");
    const m = res.text;
    const gen = String(generation);
    expect(
      metric(m, "outbox_events_handled_total", { topic: "order.placed", handler: "fixture.record" }),
    ).toBe(5);
    expect(
      metric(m, "outbox_events_failed_total", { topic: "order.cancelled", handler: "fixture.record" }),
    ).toBe(2);
    expect(
      metric(m, "outbox_events_dead_total", { topic: "order.cancelled", handler: "fixture.record" }),
    ).toBe(2);
    expect(metric(m, "outbox_events_handled_total", { topic: "order.slow", handler: "fixture.record" })).toBe(
      0,
    );
    expect(metric(m, "outbox_claim_batch_size_count", {})).toBeGreaterThanOrEqual(1);
    expect(metric(m, "outbox_handler_duration_seconds_count", { topic: "order.placed" })).toBe(5);
    expect(metric(m, "outbox_pending", { generation: gen })).toBe(0);
    expect(metric(m, "outbox_in_flight", { generation: gen })).toBe(0);
    expect(metric(m, "outbox_dead", { generation: gen })).toBe(1);
    expect(metric(m, "outbox_oldest_pending_age_seconds", { generation: gen })).toBe(0);
    expect(metric(m, "outbox_live_workers", { generation: gen })).toBe(1);
    expect(metric(m, "outbox_generation_orphaned", { generation: gen })).toBe(0);
    expect(m).toContain("# TYPE outbox_reconnects_total counter");
    // Zero-valued from the first scrape (no reconnect happened), so an increase() alert has a series.
    expect(metric(m, "outbox_reconnects_total", { connection: "listen" })).toBe(0);
    expect(metric(m, "outbox_reconnects_total", { connection: "database" })).toBe(0);
  });

  it("on SIGTERM turns unready, finishes the in-flight event, marks the worker exited and exits 0", async () => {
    const [slow] = await publish(db.current.pool, generation, "order.slow", 1);
    await waitUntil("slow event claimed", async () => {
      const { rows } = await db.current.pool.query("SELECT status FROM cutover.outbox WHERE id = $1", [slow]);
      return rows[0]?.status === "in_flight";
    });
    worker.child.kill("SIGTERM");
    await worker.waitForLog((l) => l.msg === "stopping: finishing in-flight events", "stopping");
    const ready = await get("/ready");
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toMatchObject({ ready: false, reason: "draining" });
    const { code, signal } = await worker.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const { rows } = await db.current.pool.query(
      `SELECT coalesce((SELECT status FROM cutover.outbox WHERE id = $1),
         CASE WHEN EXISTS (SELECT 1 FROM cutover.event_handled WHERE event_id = $1) THEN 'completed' END) AS event,
         (SELECT status FROM cutover.workers) AS worker`,
      [slow],
    );
    // Finished: completed (deleted, its event_handled row written with it).
    expect(rows[0]).toEqual({ event: "completed", worker: "exited" });
    expect(worker.logs().at(-1)).toMatchObject({ msg: "worker stopped" });
    // Nothing kept the event loop alive after the stop.
    expect(worker.stderr()).toBe("");
  });

  it("never prints the DATABASE_URL password, not even in connection errors", async () => {
    const u = new URL(role.url);
    u.port = String(await freePort());
    const down = await runCli(["status"], { DATABASE_URL: u.toString() });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^outbox-worker: .*ECONNREFUSED/);
    const bad = await runCli(["status"], { DATABASE_URL: `postgres://u:${role.password}@[bad` });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^outbox-worker: config error: DATABASE_URL /);
    const all = allOutput.join("");
    expect(all).toContain(role.name); // the URL (redacted) is logged: the search below is meaningful
    expect(all).not.toContain(role.password);
  });
});
