/**
 * The shipped alert rules (deploy/prometheus) and Grafana dashboard
 * (deploy/grafana) against what a real worker exports: a running
 * `outbox-worker run` on the real test database, its /metrics scraped after
 * it handled events. Every metric an expression selects must be exported,
 * and every label it groups by must be on one of those metrics. promtool
 * (Debian's prometheus package) checks the rules' syntax and runs their unit
 * tests when it is installed.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { useTestDatabase } from "../../../test/harness/db.js";
import { freePort } from "../../../test/harness/postgres-server.js";
import { createEffectsTable, newGeneration, publish } from "./support/outbox.js";
import { ensureBuilt, type Run, root, spawnCli, waitUntil, workerEnv } from "./support/process.js";
import { exposition, groupingLabels, metricNames } from "./support/promql.js";

const db = useTestDatabase();
const RULES = join(root, "deploy/prometheus/cutover-alerts.yaml");
const RULE_TESTS = join(root, "deploy/prometheus/cutover-alerts.test.yaml");
const DASHBOARD = join(root, "deploy/grafana/cutover-dashboard.json");
const promtool = spawnSync("promtool", ["--version"]).status === 0;

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
const rules: Rule[] = (
  parse(readFileSync(RULES, "utf8")) as { groups: Array<{ rules: Rule[] }> }
).groups.flatMap((g) => g.rules);
interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}
const panels: Panel[] = (JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[] }).panels;

let worker: Run;
let exported: Map<string, Set<string>>;

beforeAll(async () => {
  ensureBuilt();
  await createEffectsTable(db.current.pool);
  const generation = await newGeneration(db.current.pool, "v-observability");
  const port = await freePort();
  worker = spawnCli(
    ["run"],
    workerEnv(db.current.url, generation, port, {
      OUTBOX_RETIRE_WHEN_SUPERSEDED: "true",
      FIXTURE_FAIL_TOPIC: "order.cancelled",
    }),
  );
  await worker.waitForLog((l) => l.msg === "worker running", "worker running");
  await publish(db.current.pool, generation, "order.placed", 20);
  await publish(db.current.pool, generation, "order.cancelled", 2);
  // Labelled series appear once observed (handler duration by topic, GC by kind): wait for them.
  exported = await waitUntil(
    "a scrape with handled events, a GC and a status sample",
    async () => {
      const m = exposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      const ready = [
        "outbox_handler_duration_seconds_bucket",
        "nodejs_gc_duration_seconds_sum",
        "outbox_pending",
      ];
      return ready.every((n) => m.has(n)) ? m : undefined;
    },
    30_000,
  );
});

afterAll(() => {
  if (worker && worker.child.exitCode === null) worker.child.kill("SIGKILL");
});

function unknownIn(expr: string): string[] {
  const problems: string[] = [];
  const names = metricNames(expr);
  if (names.length === 0) problems.push("selects no metric");
  for (const n of names) if (!exported.has(n)) problems.push(`metric ${n} is not exported`);
  const labels = new Set(names.flatMap((n) => [...(exported.get(n) ?? [])]));
  for (const l of groupingLabels(expr))
    if (!labels.has(l)) problems.push(`label ${l} is on none of ${names}`);
  return problems;
}

describe("what /metrics exports", () => {
  it("includes Node's process metrics and the per-generation backlog, age and lag series", () => {
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_p99_seconds",
      "nodejs_heap_size_used_bytes",
      "nodejs_gc_duration_seconds_bucket",
      "outbox_pending",
      "outbox_in_flight",
      "outbox_oldest_pending_age_seconds",
      "outbox_claim_wait_seconds_bucket",
      "outbox_stale_workers",
      "outbox_generation_latest",
      "outbox_retire_superseded_seconds",
      "outbox_retire_overdue",
    ]) {
      expect(exported.has(name), name).toBe(true);
    }
    expect(exported.get("outbox_pending")).toContain("generation");
    expect(exported.get("nodejs_heap_size_used_bytes")).toContain("worker_generation");
  });
});

describe("deploy/prometheus/cutover-alerts.yaml", () => {
  it("covers the alerts issue 19 asks for", () => {
    const alerts = rules.map((r) => r.alert);
    for (const a of [
      "CutoverGenerationOrphaned",
      "CutoverWorkerStale",
      "CutoverBacklogAge",
      "CutoverDeadLetterGrowth",
    ])
      expect(alerts).toContain(a);
  });

  it.each(rules.map((r) => [r.alert ?? r.record, r.expr] as const))(
    "%s selects exported metrics",
    (_name, expr) => {
      expect(unknownIn(expr)).toEqual([]);
    },
  );

  it.skipIf(!promtool)("passes promtool check rules and promtool test rules", () => {
    const check = spawnSync("promtool", ["check", "rules", RULES], { encoding: "utf8" });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const test = spawnSync("promtool", ["test", "rules", RULE_TESTS], { encoding: "utf8" });
    expect(test.status, test.stdout + test.stderr).toBe(0);
  });

  // Named, so a run without promtool says what it did not check.
  it.skipIf(promtool)(
    "promtool is not installed (apt-get install prometheus): rule syntax and rule unit tests NOT checked",
    () => {},
  );
});

describe("deploy/grafana/cutover-dashboard.json", () => {
  const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.expr] as const));

  it("has a query in every non-row panel", () => {
    for (const p of panels) if (p.type !== "row") expect(p.targets?.length, p.title).toBeGreaterThan(0);
    expect(targets.length).toBeGreaterThan(15);
  });

  it.each(targets)("panel %s: %s selects exported metrics", (_title, expr) => {
    expect(unknownIn(expr)).toEqual([]);
  });
});

describe("the expression reader (negative controls)", () => {
  it("finds a misspelled metric and a label the metric lacks", () => {
    expect(metricNames('sum by (topic) (rate(outbox_events_handeld_total{topic="a"}[5m])) > 1e3')).toEqual([
      "outbox_events_handeld_total",
    ]);
    expect(unknownIn("max by (generation) (outbox_events_handled_total)")).toEqual([
      "label generation is on none of outbox_events_handled_total",
    ]);
  });
});
