import { quoteIdent } from "@cutover/outbox/internal";
import type pg from "pg";
import { ConfigError, type Env, readBool, readInt } from "./config.js";
import type { WorkerLogger } from "./logging.js";
import { redactText } from "./redact.js";

/**
 * Retire-when-superseded: the run mode of a per-generation deploy (one
 * Kubernetes Job per generation, docs/kubernetes.md). The worker of
 * generation G keeps serving until all of these hold on one check, then
 * stops cleanly and `run` exits 0, so its Job completes:
 *
 * 1. superseded: a newer generation has a live worker (so a rollback, which
 *    stops the newer workers, un-supersedes G at once);
 * 2. for at least `quietMs` (the publisher grace window, counted from the
 *    first check that saw 1): G's app pods had that long to finish their
 *    rollout and terminate;
 * 3. no row of G was created within the last `quietMs`;
 * 4. no database session tags itself as a publisher of G: application_name
 *    ending in `cutover:g<G>` (the app sets PGAPPNAME, docs/kubernetes.md);
 * 5. no row of G is pending (delayed retries included) or in flight.
 *
 * Never abandons rows: past `timeoutMs` after supersession the worker keeps
 * serving and reports itself overdue (log line once, outbox_retire_overdue 1)
 * for the RetireOverdue alert.
 */
export interface RetireConfig {
  /** OUTBOX_RETIRE_WHEN_SUPERSEDED, default false. */
  enabled: boolean;
  /** OUTBOX_RETIRE_QUIET_MS, default 300000 (5 min): the publisher grace window. */
  quietMs: number;
  /** OUTBOX_RETIRE_TIMEOUT_MS, default 3600000 (1 h): after this long superseded and not retired, report overdue. */
  timeoutMs: number;
}

export const RETIRE_DEFAULTS = { enabled: false, quietMs: 300_000, timeoutMs: 3_600_000 } as const;

const MAX_MS = 2_147_483_647;

/** Reads the OUTBOX_RETIRE_* variables; throws ConfigError naming the wrong one. */
export function loadRetireConfig(env: Env): RetireConfig {
  const enabled = readBool(env, "OUTBOX_RETIRE_WHEN_SUPERSEDED", RETIRE_DEFAULTS.enabled);
  const quietMs = readInt(env, "OUTBOX_RETIRE_QUIET_MS", RETIRE_DEFAULTS.quietMs, 0, MAX_MS);
  const timeoutMs = readInt(env, "OUTBOX_RETIRE_TIMEOUT_MS", RETIRE_DEFAULTS.timeoutMs, 1_000, MAX_MS);
  if (enabled && timeoutMs <= quietMs) {
    throw new ConfigError(
      "OUTBOX_RETIRE_TIMEOUT_MS",
      `(${timeoutMs}) must exceed OUTBOX_RETIRE_QUIET_MS (${quietMs}): no generation could retire before it is overdue`,
    );
  }
  return { enabled, quietMs, timeoutMs };
}

/** The application_name suffix that marks a publisher session of `generation`. */
export const publisherTag = (generation: number) => `cutover:g${generation}`;

/** One check's readings, from one statement. */
export interface RetireReading {
  /** Rows of this generation pending (any available_at) or in flight. */
  open: number;
  /** ms since the newest row of this generation was created; null when it has none. */
  lastPublishAgeMs: number | null;
  /** The lowest newer generation with a live worker, or null. */
  newerLiveGeneration: number | null;
  /** Sessions whose application_name ends in publisherTag(generation). */
  publisherSessions: number;
}

export interface RetireState {
  enabled: boolean;
  /** When a newer live generation was first seen (reset when it goes away); null: not superseded. */
  supersededSince: Date | null;
  newerGeneration: number | null;
  /** What still keeps this generation from retiring (empty once retired). */
  waitingFor: string[];
  overdue: boolean;
  retired: boolean;
  lastCheckAt: Date | null;
  lastError: string | null;
}

/**
 * The one retire decision, pure: from the previous state, this reading and
 * the clock. Returns the next state; `retired: true` means stop and exit 0.
 */
export function decideRetire(
  prev: RetireState,
  r: RetireReading,
  now: Date,
  config: Pick<RetireConfig, "quietMs" | "timeoutMs">,
): RetireState {
  const supersededSince = r.newerLiveGeneration === null ? null : (prev.supersededSince ?? now);
  const waitingFor: string[] = [];
  if (supersededSince === null) waitingFor.push("no newer generation has a live worker");
  else if (now.getTime() - supersededSince.getTime() < config.quietMs)
    waitingFor.push("publisher grace window after supersession (OUTBOX_RETIRE_QUIET_MS)");
  if (r.lastPublishAgeMs !== null && r.lastPublishAgeMs < config.quietMs)
    waitingFor.push("an event of this generation was published within OUTBOX_RETIRE_QUIET_MS");
  if (r.publisherSessions > 0)
    waitingFor.push(
      `${r.publisherSessions} publisher session(s) tagged application_name ...cutover:g<generation>`,
    );
  if (r.open > 0) waitingFor.push(`${r.open} row(s) pending or in flight`);
  const overdue =
    supersededSince !== null &&
    waitingFor.length > 0 &&
    now.getTime() - supersededSince.getTime() >= config.timeoutMs;
  return {
    enabled: true,
    supersededSince,
    newerGeneration: r.newerLiveGeneration,
    waitingFor,
    overdue,
    retired: waitingFor.length === 0,
    lastCheckAt: now,
    lastError: null,
  };
}

/**
 * Checks the retire conditions every `intervalMs`; `retired` resolves once
 * they hold. One start/stop contract: stop() is idempotent, safe before
 * start(), and awaits a check in progress. A failed check (database down)
 * changes nothing and is retried on the next tick.
 */
export class RetireWatch {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private current: RetireState;
  private resolveRetired!: () => void;
  /** Resolves when the generation retired (never, if stop() comes first). */
  readonly retired: Promise<void>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: {
      schema: string;
      generation: number;
      staleAfterMs: number;
      intervalMs: number;
      config: RetireConfig;
      logger: WorkerLogger;
    },
  ) {
    this.retired = new Promise((r) => {
      this.resolveRetired = r;
    });
    this.current = {
      enabled: opts.config.enabled,
      supersededSince: null,
      newerGeneration: null,
      waitingFor: ["first check"],
      overdue: false,
      retired: false,
      lastCheckAt: null,
      lastError: null,
    };
  }

  state(): RetireState {
    return this.current;
  }

  start(): void {
    if (this.stopped || this.timer || this.running || !this.opts.config.enabled) return;
    this.tick();
  }

  private tick(): void {
    this.timer = undefined;
    this.running = this.check().finally(() => {
      this.running = undefined;
      if (!this.stopped && !this.current.retired)
        this.timer = setTimeout(() => this.tick(), this.opts.intervalMs);
    });
  }

  /** Reads the conditions once (one statement). */
  async read(): Promise<RetireReading> {
    const s = quoteIdent(this.opts.schema);
    const { rows } = await this.pool.query<{
      open: number;
      last_ms: number | null;
      newer: number | null;
      sessions: number;
    }>(
      `SELECT
  (SELECT count(*)::int FROM ${s}.outbox WHERE generation = $1 AND status IN ('pending', 'in_flight')) AS open,
  (SELECT (extract(epoch FROM now() - max(created_at)) * 1000)::float8 FROM ${s}.outbox WHERE generation = $1) AS last_ms,
  (SELECT min(generation) FROM ${s}.workers
    WHERE generation > $1 AND status <> 'exited' AND last_seen > now() - $2 * interval '1 millisecond') AS newer,
  (SELECT count(*)::int FROM pg_stat_activity
    WHERE datname = current_database() AND right(application_name, length($3)) = $3) AS sessions`,
      [this.opts.generation, this.opts.staleAfterMs, publisherTag(this.opts.generation)],
    );
    const row = rows[0]!;
    return {
      open: row.open,
      lastPublishAgeMs: row.last_ms === null ? null : Math.max(0, row.last_ms),
      newerLiveGeneration: row.newer,
      publisherSessions: row.sessions,
    };
  }

  private async check(): Promise<void> {
    const log = this.opts.logger;
    let reading: RetireReading;
    try {
      reading = await this.read();
    } catch (err) {
      this.current = {
        ...this.current,
        lastError: redactText(err instanceof Error ? err.message : String(err)),
      };
      return;
    }
    const prev = this.current;
    const next = decideRetire(prev, reading, new Date(), this.opts.config);
    this.current = next;
    if (next.supersededSince && !prev.supersededSince) {
      log.info(
        { newer_generation: next.newerGeneration, waiting_for: next.waitingFor },
        "generation superseded: serving until drained, then retiring",
      );
    } else if (!next.supersededSince && prev.supersededSince) {
      log.warn({}, "no newer generation is live any more (rollback?): not retiring");
    }
    if (next.overdue && !prev.overdue) {
      log.error(
        {
          newer_generation: next.newerGeneration,
          waiting_for: next.waitingFor,
          timeout_ms: this.opts.config.timeoutMs,
        },
        "generation superseded longer than OUTBOX_RETIRE_TIMEOUT_MS and not drained: still serving (see docs/kubernetes.md)",
      );
    }
    if (next.retired) {
      log.info(
        { newer_generation: next.newerGeneration },
        "generation superseded and drained, no live publishers: retiring",
      );
      this.resolveRetired();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
