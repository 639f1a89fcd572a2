/**
 * The per-generation deploy of docs/kubernetes.md, walked without Kubernetes:
 * the real built CLI as child processes against the real test database, in
 * the roles the manifests give them — the allocate hook Job, one retiring
 * worker per generation (OUTBOX_RETIRE_WHEN_SUPERSEDED, as the per-generation
 * Job runs it), the app's publishers (tagged application_name), a rollback,
 * and the drain Job for the generation a rollback orphaned.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { freePort } from "../../../test/harness/postgres-server.js";
import { createEffectsTable, effectCount, publish } from "./support/outbox.js";
import { ensureBuilt, type Run, runCli, spawnCli, waitUntil, workerEnv } from "./support/process.js";

const db = useTestDatabase();
const QUIET_MS = 1500;
const running: Run[] = [];
const appSessions: pg.Client[] = [];

function retiringWorker(generation: number, port: number, timeoutMs = 120_000): Run {
  const run = spawnCli(
    ["run"],
    workerEnv(db.current.url, generation, port, {
      OUTBOX_WORKER_ID: `g${generation}-${port}`,
      OUTBOX_RETIRE_WHEN_SUPERSEDED: "true",
      OUTBOX_RETIRE_QUIET_MS: String(QUIET_MS),
      OUTBOX_RETIRE_TIMEOUT_MS: String(timeoutMs),
      FIXTURE_SLOW_MS: "300",
    }),
  );
  running.push(run);
  return run;
}

async function allocate(version: string): Promise<number> {
  const r = await runCli(["generation", "allocate", "--version", version], { DATABASE_URL: db.current.url });
  expect(r.code, r.stderr).toBe(0);
  return Number(r.stdout.trim());
}

/** A publisher of `generation` as the app runs it: a session whose application_name carries the tag. */
async function appSession(generation: number): Promise<pg.Client> {
  const c = new pg.Client({
    connectionString: db.current.url,
    application_name: `shop-api cutover:g${generation}`,
  });
  await c.connect();
  appSessions.push(c);
  return c;
}

async function health(port: number): Promise<Record<string, unknown>> {
  return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
}

async function status(): Promise<{
  generations: Array<{ generation: number; pending: number; liveWorkers: number; orphaned: boolean }>;
  orphaned: number[];
}> {
  const r = await runCli(["status", "--json"], { DATABASE_URL: db.current.url });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const open = async (generation: number) =>
  (
    await db.current.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM cutover.outbox WHERE generation = $1 AND status IN ('pending', 'in_flight')",
      [generation],
    )
  ).rows[0]!.n;

beforeAll(async () => {
  ensureBuilt();
  await createEffectsTable(db.current.pool);
});

afterAll(async () => {
  await Promise.all(appSessions.map((c) => c.end().catch(() => {})));
  for (const r of running)
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
});

describe("per-generation deploy lifecycle (real Postgres, real worker processes)", () => {
  let g1: number;
  let g2: number;
  let w1: Run;
  let w2: Run;
  let p1: number;
  let p2: number;

  it("allocates generation N-1 through the hook Job's command and runs its worker", async () => {
    g1 = await allocate("v1");
    expect(g1).toBeGreaterThan(0);
    p1 = await freePort();
    w1 = retiringWorker(g1, p1);
    await w1.waitForLog((l) => l.msg === "worker running", "g1 running");
    await publish(db.current.pool, g1, "order.placed", 5);
    await waitUntil("g1's first events handled", async () => (await effectCount(db.current.pool, g1)) === 5);
    // Alone, N-1 is not superseded: it outlives the grace window.
    await new Promise((r) => setTimeout(r, QUIET_MS + 500));
    expect(w1.child.exitCode).toBeNull();
    expect((await health(p1)).retire).toMatchObject({
      supersededSince: null,
      waitingFor: expect.arrayContaining(["no newer generation has a live worker"]),
    });
  });

  it("keeps N-1 running beside N while N-1's publishers live and its rows remain", async () => {
    const oldApp = await appSession(g1);
    try {
      await publish(db.current.pool, g1, "order.slow", 10);
      g2 = await allocate("v2");
      expect(g2).toBe(g1 + 1);
      p2 = await freePort();
      w2 = retiringWorker(g2, p2);
      await w2.waitForLog((l) => l.msg === "worker running", "g2 running");
      await w1.waitForLog(
        (l) => l.msg === "generation superseded: serving until drained, then retiring",
        "g1 superseded",
      );
      // Publishing overlaps the cutover: the old app pods still write g1 rows, which g1's worker handles.
      await publish(db.current.pool, g1, "order.placed", 3);
      await publish(db.current.pool, g2, "order.placed", 4);
      await waitUntil("the overlap's g1 rows handled", async () => (await open(g1)) === 0 || undefined);
      await waitUntil("g2's rows handled", async () => (await effectCount(db.current.pool, g2)) === 4);
      await new Promise((r) => setTimeout(r, QUIET_MS + 500));
      // Drained and past the grace window, but a g1 publisher session is connected: it stays.
      expect(w1.child.exitCode).toBeNull();
      const h = await health(p1);
      expect(h.retire).toMatchObject({ newerGeneration: g2, retired: false });
      expect((h.retire as { waitingFor: string[] }).waitingFor.join("; ")).toMatch(/1 publisher session/);
      const metrics = await (await fetch(`http://127.0.0.1:${p1}/metrics`)).text();
      const superseded = /^outbox_retire_superseded_seconds\{[^}]*\} ([0-9.e+-]+)$/m.exec(metrics);
      expect(Number(superseded?.[1])).toBeGreaterThan(0);
    } finally {
      await oldApp.end();
    }
  });

  it("retires N-1 by itself (exit 0, workers row exited) once its last publisher is gone", async () => {
    const exit = await w1.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(
      w1.logs().some((l) => l.msg === "generation superseded and drained, no live publishers: retiring"),
    ).toBe(true);
    expect(await effectCount(db.current.pool, g1)).toBe(18);
    const { rows } = await db.current.pool.query<{ status: string }>(
      "SELECT status FROM cutover.workers WHERE generation = $1",
      [g1],
    );
    expect(rows.map((r) => r.status)).toEqual(["exited"]);
    // Every g1 effect was written by g1's worker; N never touched N-1's rows.
    const { rows: writers } = await db.current.pool.query<{ worker: string }>(
      "SELECT DISTINCT worker FROM public.fixture_effects WHERE generation = $1",
      [g1],
    );
    expect(writers.map((w) => w.worker)).toEqual([`g${g1}-${p1}`]);
    expect(w2.child.exitCode).toBeNull();
  });

  it("rolls back to N-1 without losing N's events: they stay pending, reported ORPHANED", async () => {
    // The rollback removes N's Job: its worker gets SIGTERM before retiring, so it exits 143 (not a Job success).
    w2.child.kill("SIGTERM");
    expect((await w2.exited).code).toBe(143);
    // A straggling N app pod publishes during the rollback.
    await publish(db.current.pool, g2, "order.placed", 2);
    const s = await status();
    expect(s.orphaned).toEqual([g2]);
    expect(s.generations.find((g) => g.generation === g2)).toMatchObject({ pending: 2, liveWorkers: 0 });

    // N-1's Job is re-created: no newer generation is live, so it serves and does not retire.
    p1 = await freePort();
    w1 = retiringWorker(g1, p1);
    await w1.waitForLog((l) => l.msg === "worker running", "g1 running again");
    // The rolled-back app's pods are back, tagged as publishers of N-1 (open until the end).
    await appSession(g1);
    await publish(db.current.pool, g1, "order.placed", 2);
    await waitUntil(
      "post-rollback g1 rows handled",
      async () => (await effectCount(db.current.pool, g1)) === 20,
    );
    await new Promise((r) => setTimeout(r, QUIET_MS + 500));
    expect(w1.child.exitCode).toBeNull();
    expect(await open(g2)).toBe(2);
    expect((await status()).orphaned).toEqual([g2]);
  });

  it("empties the orphaned generation with its own code (the drain Job), then N-1 serves on", async () => {
    // While the drain runs generation N is live again; N-1's live publisher keeps N-1 from retiring.
    const r = await runCli(["drain", "--timeout", "30000"], workerEnv(db.current.url, g2, 0));
    expect(r.code, r.stderr).toBe(0);
    expect(await open(g2)).toBe(0);
    expect(await effectCount(db.current.pool, g2)).toBe(6);
    expect((await status()).orphaned).toEqual([]);
    expect(w1.child.exitCode).toBeNull();
    w1.child.kill("SIGTERM");
    expect((await w1.exited).code).toBe(143);
  });
});

describe("a superseded generation that does not empty", () => {
  it("keeps serving past OUTBOX_RETIRE_TIMEOUT_MS, reports itself overdue, and still retires once free", async () => {
    const old = await allocate("v-overdue-old");
    const oldPort = await freePort();
    const oldWorker = retiringWorker(old, oldPort, 3000);
    await oldWorker.waitForLog((l) => l.msg === "worker running", "old running");
    const publisher = await appSession(old);
    const next = await allocate("v-overdue-new");
    const nextWorker = retiringWorker(next, await freePort());
    await nextWorker.waitForLog((l) => l.msg === "worker running", "new running");

    const overdue = await oldWorker.waitForLog(
      (l) =>
        typeof l.msg === "string" &&
        l.msg.startsWith("generation superseded longer than OUTBOX_RETIRE_TIMEOUT_MS"),
      "the overdue error",
    );
    expect(overdue).toMatchObject({ level: "error", newer_generation: next, timeout_ms: 3000 });
    expect(oldWorker.child.exitCode).toBeNull();
    const metrics = await (await fetch(`http://127.0.0.1:${oldPort}/metrics`)).text();
    expect(metrics).toMatch(/^outbox_retire_overdue\{[^}]*\} 1$/m);
    const health = (await (await fetch(`http://127.0.0.1:${oldPort}/health`)).json()) as { retire: unknown };
    expect(health.retire).toMatchObject({ overdue: true, retired: false, newerGeneration: next });
    // Events of the old generation published meanwhile are still handled by it.
    await publish(db.current.pool, old, "order.placed", 2);
    await waitUntil(
      "the overdue generation's new rows handled",
      async () => (await open(old)) === 0 || undefined,
    );

    await publisher.end();
    expect(await oldWorker.exited).toEqual({ code: 0, signal: null });
    nextWorker.child.kill("SIGTERM");
    expect((await nextWorker.exited).code).toBe(143);
  });
});
