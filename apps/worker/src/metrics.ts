import type { Consumer, OutboxStatus } from "@cutover/outbox";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { RetireState } from "./retire.js";

/**
 * The worker's Prometheus registry. Event counters and histograms follow the
 * consumer's typed events; backlog gauges read the latest status sample.
 */
export interface WorkerMetrics {
  readonly registry: Registry;
  render(): Promise<string>;
  contentType: string;
}

export function createMetrics(opts: {
  consumer: Consumer;
  status: () => OutboxStatus | undefined;
  labels: { generation: number; worker_id: string };
  /** Handlers served: their counters start at 0, so dashboards see every series from the first scrape. */
  handlers?: ReadonlyArray<{ name: string; topics: readonly string[] }>;
  /** The retire watch (OUTBOX_RETIRE_WHEN_SUPERSEDED), when on: its gauges are exported. */
  retire?: () => RetireState;
  /** OUTBOX_METRICS_TENANT_LABELS: tenants given their own `tenant` label value; 0 (default) = no tenant label. */
  tenantLabels?: number;
}): WorkerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ worker_generation: String(opts.labels.generation) });
  // Node's process metrics (CPU, resident memory, heap, event-loop lag, GC, handles), under their
  // standard names (process_*, nodejs_*), so the usual Node dashboards work unchanged.
  collectDefaultMetrics({ register: registry });
  const c = opts.consumer;
  const tenantOf = tenantLabeler(opts.tenantLabels ?? 0);
  const eventLabels = tenantOf ? ["topic", "handler", "tenant"] : ["topic", "handler"];

  const handled = new Counter({
    name: "outbox_events_handled_total",
    help: "Successful handler runs, by topic and handler (and tenant, under OUTBOX_METRICS_TENANT_LABELS)",
    labelNames: eventLabels,
    registers: [registry],
  });
  const failed = new Counter({
    name: "outbox_events_failed_total",
    help: "Failed handler runs (retried or dead), by topic and handler (and tenant, under OUTBOX_METRICS_TENANT_LABELS)",
    labelNames: eventLabels,
    registers: [registry],
  });
  const dead = new Counter({
    name: "outbox_events_dead_total",
    help: 'Events gone dead, by topic and the handler that failed last ("(payload)": invalid payload) (and tenant, under OUTBOX_METRICS_TENANT_LABELS)',
    labelNames: eventLabels,
    registers: [registry],
  });
  const reaped = new Counter({
    name: "outbox_events_reaped_total",
    help: "Stuck in-flight rows of this generation re-pended (or deaded) by this worker's reaper",
    registers: [registry],
  });
  const batch = new Histogram({
    name: "outbox_claim_batch_size",
    help: "Rows returned per non-empty claim",
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "outbox_handler_duration_seconds",
    help: "Time to handle one event (all its handlers, one transaction), by topic",
    labelNames: ["topic"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const reconnects = new Counter({
    name: "outbox_reconnects_total",
    help: "Connections re-established after a loss, by connection (listen, database)",
    labelNames: ["connection"],
    registers: [registry],
  });
  const lag = new Gauge({
    name: "outbox_claim_lag_seconds",
    help: "now() - available_at of the newest row at its claim (last claim)",
    registers: [registry],
    collect() {
      const ms = c.metrics().lastClaimLagMs;
      if (ms !== null) this.set(ms / 1000);
    },
  });
  void lag;
  const lagHistogram = new Histogram({
    name: "outbox_claim_wait_seconds",
    help: "now() - available_at of the oldest row of each non-empty claim: how long events wait to be claimed",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  new Gauge({
    name: "outbox_worker_in_flight",
    help: "Events this worker has claimed and not yet released",
    registers: [registry],
    collect() {
      this.set(c.metrics().inFlight);
    },
  });
  const byGeneration = (
    name: string,
    help: string,
    pick: (g: OutboxStatus["generations"][number]) => number | null,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["generation"],
      registers: [registry],
      collect() {
        const s = opts.status();
        if (!s) return;
        this.reset();
        for (const g of s.generations) {
          const v = pick(g);
          if (v !== null) this.set({ generation: String(g.generation) }, v);
        }
      },
    });
  byGeneration("outbox_pending", "Pending rows, by generation", (g) => g.pending);
  byGeneration("outbox_in_flight", "In-flight rows, by generation", (g) => g.inFlight);
  byGeneration("outbox_dead", "Dead rows, by generation", (g) => g.dead);
  byGeneration(
    "outbox_oldest_pending_age_seconds",
    "Age of the oldest pending row, by generation (0 when none)",
    (g) => (g.oldestPendingAgeMs ?? 0) / 1000,
  );
  byGeneration("outbox_live_workers", "Live workers, by generation", (g) => g.liveWorkers);
  new Gauge({
    name: "outbox_stale_workers",
    help: "Workers not exited whose heartbeat is older than OUTBOX_STALE_AFTER_MS (crashed or stalled), by generation",
    labelNames: ["generation"],
    registers: [registry],
    collect() {
      const s = opts.status();
      if (!s) return;
      this.reset();
      for (const g of s.generations) this.set({ generation: String(g.generation) }, 0);
      for (const w of s.workers) if (w.stale) this.inc({ generation: String(w.generation) });
    },
  });
  new Gauge({
    name: "outbox_generation_latest",
    help: "The newest allocated generation (what publishers of the current release should stamp)",
    registers: [registry],
    collect() {
      const s = opts.status();
      const allocated = s?.generations.filter((g) => g.version !== null) ?? [];
      if (allocated.length > 0) this.set(Math.max(...allocated.map((g) => g.generation)));
    },
  });
  byGeneration("outbox_generation_orphaned", "1 when a generation has open rows and no live worker", (g) =>
    g.orphaned ? 1 : 0,
  );

  const retire = opts.retire;
  if (retire) {
    new Gauge({
      name: "outbox_retire_superseded_seconds",
      help: "How long a newer generation has been live while this worker's generation is still served (0: not superseded)",
      registers: [registry],
      collect() {
        const since = retire().supersededSince;
        this.set(since === null ? 0 : Math.max(0, Date.now() - since.getTime()) / 1000);
      },
    });
    new Gauge({
      name: "outbox_retire_overdue",
      help: "1 when this generation is superseded for longer than OUTBOX_RETIRE_TIMEOUT_MS and still not drained",
      registers: [registry],
      collect() {
        this.set(retire().overdue ? 1 : 0);
      },
    });
  }

  for (const h of opts.handlers ?? []) {
    for (const topic of h.topics) {
      if (topic === "*") continue;
      for (const counter of [handled, failed, dead]) {
        counter.inc({ topic, handler: h.name, ...(tenantOf ? { tenant: NO_TENANT } : {}) }, 0);
      }
    }
  }

  // Both series exist from the first scrape, so `increase(outbox_reconnects_total[5m]) > 0` alerts on the first reconnect.
  for (const connection of ["listen", "database"] as const) reconnects.inc({ connection }, 0);

  const labels = (e: { topic: string; tenant: string | null }, handler: string) =>
    tenantOf ? { topic: e.topic, handler, tenant: tenantOf(e.tenant) } : { topic: e.topic, handler };
  c.on("handled", (e) => {
    for (const h of e.handlers) handled.inc(labels(e, h));
    duration.observe({ topic: e.topic }, e.durationMs / 1000);
  });
  c.on("failed", (e) => failed.inc(labels(e, e.handler ?? "(payload)")));
  c.on("dead", (e) => dead.inc(labels(e, e.handler ?? "(payload)")));
  c.on("reaped", (e) => reaped.inc(e.count));
  c.on("claimed", (e) => {
    batch.observe(e.count);
    lagHistogram.observe(Math.max(0, e.lagMs) / 1000);
  });
  c.on("reconnected", (e) => reconnects.inc({ connection: e.connection }));

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}

/** The `tenant` label of an event without a tenant. */
export const NO_TENANT = "(none)";
/** The `tenant` label of every tenant past the cap. */
export const OTHER_TENANTS = "other";

/**
 * Maps a tenant to its label value under a cardinality cap: the first `cap`
 * distinct tenants seen keep their name, every later one is "other", so at
 * most cap + 2 values exist per (topic, handler). Undefined when cap is 0.
 */
export function tenantLabeler(cap: number): ((tenant: string | null) => string) | undefined {
  if (cap <= 0) return undefined;
  const named = new Set<string>();
  return (tenant) => {
    if (tenant === null) return NO_TENANT;
    if (named.has(tenant)) return tenant;
    if (named.size < cap) {
      named.add(tenant);
      return tenant;
    }
    return OTHER_TENANTS;
  };
}
