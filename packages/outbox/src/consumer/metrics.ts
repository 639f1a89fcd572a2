/** A counter split by topic and by handler, as a metrics exporter reads it. */
export interface LabeledCounter {
  total: number;
  byTopic: Record<string, number>;
  byHandler: Record<string, number>;
}

/** A cumulative histogram (Prometheus-shaped: bucket counts include smaller buckets). */
export interface Histogram {
  count: number;
  sum: number;
  buckets: Array<{ le: number; count: number }>;
}

/**
 * A snapshot of a consumer's counters (monotonic since createConsumer) and
 * gauges (current values). Plain data: copy it into any exporter.
 */
export interface ConsumerMetrics {
  /** Events done (total, byTopic); successful handler runs (byHandler). */
  handled: LabeledCounter;
  /** Failed handler runs (retry scheduled or dead). */
  failed: LabeledCounter;
  /** Events gone dead (byHandler: the handler that failed last; "(payload)" for an invalid payload). */
  dead: LabeledCounter;
  /** Rows this consumer's reaper re-pended or deaded (byHandler stays empty). */
  reaped: LabeledCounter;
  /** Claim statements run, and rows they returned. */
  claims: number;
  claimedEvents: number;
  /** Rows per non-empty claim. */
  batchSizes: Histogram;
  /** Handler run durations, ms. */
  handlerDurationsMs: Histogram;
  /** LISTEN reconnections completed. */
  reconnects: number;
  /** Events claimed and not yet released. */
  inFlight: number;
  /** now() - available_at of the newest claimed row, at its claim (ms); null before the first claim. */
  lastClaimLagMs: number | null;
}

const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000];
const DURATION_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];

function counter(): LabeledCounter {
  return { total: 0, byTopic: {}, byHandler: {} };
}

function histogram(bounds: number[]): Histogram {
  return { count: 0, sum: 0, buckets: bounds.map((le) => ({ le, count: 0 })) };
}

export class MetricsRecorder {
  private readonly m: ConsumerMetrics = {
    handled: counter(),
    failed: counter(),
    dead: counter(),
    reaped: counter(),
    claims: 0,
    claimedEvents: 0,
    batchSizes: histogram(BATCH_BUCKETS),
    handlerDurationsMs: histogram(DURATION_BUCKETS),
    reconnects: 0,
    inFlight: 0,
    lastClaimLagMs: null,
  };

  count(
    which: "handled" | "failed" | "dead" | "reaped",
    topic: string,
    handler?: string,
    events = true,
  ): void {
    const c = this.m[which];
    if (events) {
      c.total++;
      c.byTopic[topic] = (c.byTopic[topic] ?? 0) + 1;
    }
    if (handler !== undefined) c.byHandler[handler] = (c.byHandler[handler] ?? 0) + 1;
  }

  claimed(n: number, lagMs: number | null): void {
    this.m.claims++;
    if (n === 0) return;
    this.m.claimedEvents += n;
    observe(this.m.batchSizes, n);
    if (lagMs !== null) this.m.lastClaimLagMs = Math.max(0, Math.round(lagMs));
  }

  duration(ms: number): void {
    observe(this.m.handlerDurationsMs, ms);
  }

  reconnected(): void {
    this.m.reconnects++;
  }

  snapshot(inFlight: number): ConsumerMetrics {
    const copy = structuredClone(this.m);
    copy.inFlight = inFlight;
    return copy;
  }
}

function observe(h: Histogram, value: number): void {
  h.count++;
  h.sum += value;
  for (const b of h.buckets) if (value <= b.le) b.count++;
}
