/**
 * Tenant and trace fields where operators meet them: the worker's JSON log
 * lines (handler lines and event lines share event_id, trace_id, tenant_id),
 * the tenant label of /metrics under its cardinality cap, and the ops
 * commands `dead list|retry --tenant`.
 */
import { createPublisher, defineEvents } from "@cutover/outbox";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { useTestDatabase } from "../../../test/harness/db.js";
import { type Assembled, assembleConsumer } from "../src/assemble.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/logging.js";
import { createMetrics, tenantLabeler } from "../src/metrics.js";
import { newGeneration, TRACE_ID, TRACEPARENT } from "./support/outbox.js";
import { ensureBuilt, fixture, runCli } from "./support/process.js";

const db = useTestDatabase();
const events = defineEvents({ "order.placed": z.object({ n: z.number() }) });

beforeAll(() => {
  ensureBuilt();
});

let assembled: Assembled | undefined;
afterEach(async () => {
  await assembled?.consumer.stop({ timeoutMs: 5000 });
  await assembled?.closeRelays();
  assembled = undefined;
});

async function publishTenants(generation: number, tenants: Array<string | undefined>): Promise<string[]> {
  const pub = await createPublisher({ events, db: db.current.pool, generation });
  const client = await db.current.pool.connect();
  try {
    await client.query("BEGIN");
    const res = await pub.publishBatch(
      client,
      tenants.map((tenant, n) => ({
        topic: "order.placed" as const,
        payload: { n },
        headers: { traceparent: TRACEPARENT },
        ...(tenant === undefined ? {} : { tenant }),
      })),
    );
    await client.query("COMMIT");
    return res.map((r) => r.id!);
  } finally {
    client.release();
  }
}

/** Runs the worker's own consumer assembly on `generation` until its backlog is done or dead. */
async function runWorker(generation: number, env: Record<string, string>) {
  const lines: Array<Record<string, unknown>> = [];
  const fullEnv = {
    DATABASE_URL: db.current.url,
    CUTOVER_GENERATION: String(generation),
    OUTBOX_HANDLERS: fixture("logging-handlers.mjs"),
    OUTBOX_POLL_INTERVAL_MS: "50",
    ...env,
  };
  const config = loadConfig(fullEnv, { needGeneration: true, needHandlers: true });
  const logger = createLogger(
    "info",
    { service: "outbox-worker", environment: "test", generation, worker_id: "w-tenant" },
    { write: (line) => lines.push(JSON.parse(line)) },
  );
  const prior = process.env.FIXTURE_FAIL_TENANT;
  process.env.FIXTURE_FAIL_TENANT = env.FIXTURE_FAIL_TENANT ?? "";
  try {
    assembled = await assembleConsumer(config, db.current.pool, fullEnv, "w-tenant", logger);
    const metrics = createMetrics({
      consumer: assembled.consumer,
      status: () => undefined,
      labels: { generation, worker_id: "w-tenant" },
      handlers: assembled.module?.handlers ?? [],
      tenantLabels: config.metricsTenantLabels,
    });
    await assembled.consumer.drain({ timeoutMs: 30_000 });
    return { lines, metrics };
  } finally {
    if (prior === undefined) delete process.env.FIXTURE_FAIL_TENANT;
    else process.env.FIXTURE_FAIL_TENANT = prior;
  }
}

describe("tenant and trace in the worker", () => {
  it("a handler's ctx.logger lines carry the envelope, the event, its trace and tenant, and join the event lines", async () => {
    const generation = await newGeneration(db.current.pool, "tenant-logs");
    const [id] = await publishTenants(generation, ["acme"]);
    const { lines } = await runWorker(generation, {});
    const said = lines.filter((l) => l.msg === "handler says hello");
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({
      level: "info",
      service: "outbox-worker",
      environment: "test",
      generation,
      worker_id: "w-tenant",
      step: "charging",
      event_id: id,
      topic: "order.placed",
      event_type: "order.placed",
      handler: "fixture.log",
      attempt: 1,
      tenant: "acme",
      tenant_id: "acme",
      trace_id: TRACE_ID,
    });
    const handled = lines.find((l) => l.msg === "event handled");
    expect(handled).toMatchObject({
      event_id: id,
      trace_id: TRACE_ID,
      tenant_id: "acme",
      event_type: "order.placed",
    });
  });

  it("labels event counters by tenant only under OUTBOX_METRICS_TENANT_LABELS: the first N tenants, then other", async () => {
    const generation = await newGeneration(db.current.pool, "tenant-metrics");
    const pub = ["a", "b", "c", undefined, "a", "d"];
    await publishTenants(generation, pub);
    const { metrics } = await runWorker(generation, { OUTBOX_METRICS_TENANT_LABELS: "2" });
    const handled = await metrics.registry.getSingleMetric("outbox_events_handled_total")!.get();
    const byTenant: Record<string, number> = {};
    for (const v of handled.values) {
      const t = String(v.labels.tenant);
      byTenant[t] = (byTenant[t] ?? 0) + v.value;
    }
    // Which two tenants are named depends on claim order; there are exactly two, and the rest is "other".
    const named = Object.keys(byTenant).filter((t) => t !== "other" && t !== "(none)");
    expect(named).toHaveLength(2);
    expect(byTenant["(none)"]).toBe(1);
    expect(Object.values(byTenant).reduce((a, b) => a + b, 0)).toBe(6);
    expect(byTenant.other).toBe(6 - 1 - named.reduce((n, t) => n + byTenant[t]!, 0));
    // Four distinct tenants under a cap of two: some always land in "other".
    expect(byTenant.other).toBeGreaterThan(0);

    const off = await newGeneration(db.current.pool, "tenant-metrics-off");
    await publishTenants(off, ["a"]);
    await assembled!.consumer.stop({ timeoutMs: 5000 });
    const plain = await runWorker(off, {});
    const series = await plain.metrics.registry.getSingleMetric("outbox_events_handled_total")!.get();
    expect(series.values.every((v) => !("tenant" in v.labels))).toBe(true);
  });

  it("the tenant labeler caps cardinality: N names, then other; no tenant is (none)", () => {
    const label = tenantLabeler(2)!;
    expect(["x", "y", "z", "x", null, "w", "y"].map((t) => label(t))).toEqual([
      "x",
      "y",
      "other",
      "x",
      "(none)",
      "other",
      "y",
    ]);
    expect(tenantLabeler(0)).toBeUndefined();
  });

  it("dead list --tenant and dead retry --tenant select one tenant's dead letters", async () => {
    const generation = await newGeneration(db.current.pool, "tenant-ops");
    const ids = await publishTenants(generation, ["acme", "globex", "acme"]);
    await runWorker(generation, { FIXTURE_FAIL_TENANT: "acme" });
    await assembled!.consumer.stop({ timeoutMs: 5000 });
    const env = { DATABASE_URL: db.current.url };

    const list = await runCli(["dead", "list", "--json", "--tenant", "acme"], env);
    expect(list.code).toBe(0);
    const dead = JSON.parse(list.stdout) as Array<{ id: string; tenant: string }>;
    expect(dead.map((d) => [d.id, d.tenant])).toEqual([
      [ids[0], "acme"],
      [ids[2], "acme"],
    ]);
    expect(JSON.parse((await runCli(["dead", "list", "--json", "--tenant", "globex"], env)).stdout)).toEqual(
      [],
    );

    const retry = await runCli(
      ["dead", "retry", "--tenant", "acme", "--generation", String(generation)],
      env,
    );
    expect(retry).toMatchObject({ code: 0, stdout: "requeued 2 dead event(s)\n" });
    // The globex event completed (its row deleted, its event_handled row kept); acme's are re-queued.
    const { rows } = await db.current.pool.query<{ id: string; status: string }>(
      `SELECT t.id::text AS id, coalesce(o.status,
         CASE WHEN EXISTS (SELECT 1 FROM cutover.event_handled h WHERE h.event_id = t.id) THEN 'completed' ELSE 'lost' END) AS status
         FROM unnest($1::bigint[]) AS t(id) LEFT JOIN cutover.outbox o ON o.id = t.id ORDER BY t.id`,
      [ids],
    );
    expect(rows.map((r) => r.status)).toEqual(["pending", "completed", "pending"]);

    const empty = await runCli(["dead", "retry", "--tenant", ""], env);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--tenant needs a tenant name/);
  });
});
