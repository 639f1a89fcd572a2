import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type pg from "pg";
import { z } from "zod";
import { CutoverError } from "../errors.js";
import { parseGeneration } from "../generation.js";
import { type CatalogLike, type HandlerDefinition, validateHandlers } from "../handler.js";
import { DEFAULT_SCHEMA, validateSchemaName } from "../identifiers.js";
import { type Logger, silentLogger } from "../logger.js";

export interface RetentionOptions {
  /** Delete `done` rows processed longer ago than this. Default 24 h. */
  doneAfterMs?: number;
  /**
   * Delete `event_handled` rows older than this whose outbox row is done or
   * already pruned (never one whose event may still run). Default 7 days.
   */
  handledAfterMs?: number;
  /** Delete `exited` workers rows last seen longer ago than this. Default 24 h. */
  exitedWorkersAfterMs?: number;
  /** How often the pruner runs. Default 60 s. */
  intervalMs?: number;
  /** Rows per DELETE statement. Default 1000. */
  batchSize?: number;
}

export interface ConsumerOptions {
  /** Where to connect. One of databaseUrl / pool is required. */
  databaseUrl?: string;
  /**
   * A pool to use instead (not ended by stop()). Size it concurrency + 3.
   * The LISTEN connection is always a dedicated client built from
   * `pool.options`.
   */
  pool?: pg.Pool;
  /** Schema holding Cutover's tables. Default `cutover`. */
  schema?: string;
  /** The generation served. Default CUTOVER_GENERATION from `env`; verified allocated at start(). */
  generation?: number;
  /** Environment read for CUTOVER_GENERATION. Default process.env. */
  env?: Record<string, string | undefined>;
  /** Unique id of this worker (workers.id, claimed_by). Default host-pid-random. */
  workerId?: string;
  /** Recorded in the workers row (git sha, image tag). Default "". */
  version?: string;
  handlers: HandlerDefinition[];
  /** When given, payloads are re-validated (zod transforms applied) before handlers; failures go dead. */
  events?: CatalogLike;
  /** Chunks processed at once, each a transaction on its own connection. Default 4. */
  concurrency?: number;
  /**
   * The most events per chunk (one transaction). Default 500. The consumer
   * sizes chunks below this from what handler runs cost: a chunk aims at
   * fewer than 56 savepoints (one per handler run that writes through
   * ctx.tx; past 64 Postgres' subtransaction cache overflows, which slows
   * every session's snapshots) and about 0.5 s of handler time, and defers
   * its remaining events to a fresh chunk past 56 savepoints or 1 s. So
   * writing handlers run ~56 per transaction, quick non-writing ones (relays)
   * up to batchSize.
   */
  batchSize?: number;
  /** Backstop poll when no notification arrives. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Lease per claim; extended every leaseMs/3 while handlers run. Default 60 s. */
  leaseMs?: number;
  /** Per-try handler time limit. Default 30 s. */
  handlerTimeoutMs?: number;
  /** Tries before an event goes dead. Default 10. */
  maxAttempts?: number;
  /** Retry delay: random(0, min(maxMs, baseMs * 2^(attempt-1))) (full jitter). Defaults 1000 / 300000 ms. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** How often the workers row is refreshed. Default 5 s. */
  heartbeatIntervalMs?: number;
  /** A worker whose last_seen is older than this is gone; its rows are reaped. Default 30 s. */
  staleAfterMs?: number;
  /** How often the reaper looks for stuck rows of this generation. Default 10 s. */
  reaperIntervalMs?: number;
  retention?: RetentionOptions;
  /** LISTEN for wake-ups (else poll only). Default true. */
  listen?: boolean;
  /**
   * Send the hot statements (claim, event_handled insert, completion,
   * release, lease extension, heartbeat) as named prepared statements, parsed
   * once per connection. Default true. Set false behind PgBouncer in
   * transaction mode older than 1.21 (or with max_prepared_statements = 0).
   */
  preparedStatements?: boolean;
  /** Default silent. */
  logger?: Logger;
  /**
   * Log each outcome (handled, failed, dead, reaped, state) through `logger`.
   * Set false when you subscribe to the events and log them yourself.
   * Default true.
   */
  logEvents?: boolean;
}

export const CONSUMER_DEFAULTS = {
  schema: DEFAULT_SCHEMA,
  version: "",
  concurrency: 4,
  batchSize: 500,
  pollIntervalMs: 1000,
  leaseMs: 60_000,
  handlerTimeoutMs: 30_000,
  maxAttempts: 10,
  backoff: { baseMs: 1000, maxMs: 300_000 },
  heartbeatIntervalMs: 5000,
  staleAfterMs: 30_000,
  reaperIntervalMs: 10_000,
  retention: {
    doneAfterMs: 24 * 3600_000,
    handledAfterMs: 7 * 24 * 3600_000,
    exitedWorkersAfterMs: 24 * 3600_000,
    intervalMs: 60_000,
    batchSize: 1000,
  },
  listen: true,
  preparedStatements: true,
} as const;

const ms = (min: number) => z.number().int().min(min).max(2_147_483_647);

// Every option createConsumer reads; `satisfies` keeps the lists in step with the interfaces.
const OPTION_NAMES = Object.keys({
  databaseUrl: 1,
  pool: 1,
  schema: 1,
  generation: 1,
  env: 1,
  workerId: 1,
  version: 1,
  handlers: 1,
  events: 1,
  concurrency: 1,
  batchSize: 1,
  pollIntervalMs: 1,
  leaseMs: 1,
  handlerTimeoutMs: 1,
  maxAttempts: 1,
  backoff: 1,
  heartbeatIntervalMs: 1,
  staleAfterMs: 1,
  reaperIntervalMs: 1,
  retention: 1,
  listen: 1,
  preparedStatements: 1,
  logger: 1,
  logEvents: 1,
} satisfies Record<keyof ConsumerOptions, 1>);
const BACKOFF_NAMES = Object.keys({ baseMs: 1, maxMs: 1 } satisfies Record<
  keyof NonNullable<ConsumerOptions["backoff"]>,
  1
>);
const RETENTION_NAMES = Object.keys({
  doneAfterMs: 1,
  handledAfterMs: 1,
  exitedWorkersAfterMs: 1,
  intervalMs: 1,
  batchSize: 1,
} satisfies Record<keyof RetentionOptions, 1>);

/**
 * A misspelled option (`concurency: 8`) would otherwise be ignored without a
 * word and the default used: refuse it, naming it and the closest real one.
 */
function rejectUnknown(value: unknown, known: readonly string[], prefix: string): void {
  if (value === null || typeof value !== "object") return;
  for (const name of Object.keys(value)) {
    if (known.includes(name)) continue;
    const near = closest(name, known);
    throw new CutoverError(
      "CONFIG_INVALID",
      `unknown consumer option ${prefix}${name}${near ? ` (did you mean ${prefix}${near}?)` : ""}`,
      { details: { option: `${prefix}${name}` } },
    );
  }
}

/** The known name within edit distance 2 (or a case-insensitive match), if any. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

const shape = z.object({
  concurrency: z.number().int().min(1).max(256),
  batchSize: z.number().int().min(1).max(1000),
  pollIntervalMs: ms(10),
  leaseMs: ms(100),
  handlerTimeoutMs: ms(1),
  maxAttempts: z.number().int().min(1).max(1_000_000),
  backoff: z.object({ baseMs: ms(0), maxMs: ms(0) }),
  heartbeatIntervalMs: ms(10),
  staleAfterMs: ms(100),
  reaperIntervalMs: ms(10),
  retention: z.object({
    doneAfterMs: ms(0),
    handledAfterMs: ms(0),
    exitedWorkersAfterMs: ms(0),
    intervalMs: ms(10),
    batchSize: z.number().int().min(1).max(100_000),
  }),
  listen: z.boolean(),
  preparedStatements: z.boolean(),
  logEvents: z.boolean(),
  version: z.string().max(200),
  workerId: z.string().min(1).max(100),
});

export interface ResolvedOptions {
  databaseUrl: string | undefined;
  pool: pg.Pool | undefined;
  schema: string;
  generation: number;
  workerId: string;
  version: string;
  handlers: readonly HandlerDefinition[];
  events: CatalogLike | undefined;
  concurrency: number;
  batchSize: number;
  pollIntervalMs: number;
  leaseMs: number;
  handlerTimeoutMs: number;
  maxAttempts: number;
  backoff: { baseMs: number; maxMs: number };
  heartbeatIntervalMs: number;
  staleAfterMs: number;
  reaperIntervalMs: number;
  retention: Required<RetentionOptions>;
  listen: boolean;
  preparedStatements: boolean;
  logger: Logger;
  logEvents: boolean;
}

function defaultWorkerId(): string {
  return `${hostname().slice(0, 40)}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/** Validates options once, at construction; the error names the option and its limit. */
export function resolveOptions(opts: ConsumerOptions): ResolvedOptions {
  if (opts === null || typeof opts !== "object") {
    throw new CutoverError("CONFIG_INVALID", "createConsumer needs an options object");
  }
  rejectUnknown(opts, OPTION_NAMES, "");
  for (const [name, value] of [
    ["backoff", opts.backoff],
    ["retention", opts.retention],
  ] as const) {
    // Spreading a string or an array would keep every default without a word.
    if (value !== undefined && (value === null || typeof value !== "object" || Array.isArray(value))) {
      throw new CutoverError(
        "CONFIG_INVALID",
        `consumer option ${name} must be an object; got ${JSON.stringify(value)}`,
        {
          details: { option: name },
        },
      );
    }
  }
  rejectUnknown(opts.backoff, BACKOFF_NAMES, "backoff.");
  rejectUnknown(opts.retention, RETENTION_NAMES, "retention.");
  if (!opts.databaseUrl && !opts.pool) {
    throw new CutoverError("CONFIG_INVALID", "databaseUrl or pool is required", {
      details: { option: "databaseUrl" },
    });
  }
  const schema = validateSchemaName(opts.schema ?? CONSUMER_DEFAULTS.schema);
  const generation =
    opts.generation !== undefined
      ? parseGeneration(opts.generation, "generation")
      : parseGeneration((opts.env ?? process.env).CUTOVER_GENERATION);
  const handlers = validateHandlers(opts.handlers, opts.events);
  const d = CONSUMER_DEFAULTS;
  const candidate = {
    concurrency: opts.concurrency ?? d.concurrency,
    batchSize: opts.batchSize ?? d.batchSize,
    pollIntervalMs: opts.pollIntervalMs ?? d.pollIntervalMs,
    leaseMs: opts.leaseMs ?? d.leaseMs,
    handlerTimeoutMs: opts.handlerTimeoutMs ?? d.handlerTimeoutMs,
    maxAttempts: opts.maxAttempts ?? d.maxAttempts,
    backoff: { ...d.backoff, ...opts.backoff },
    heartbeatIntervalMs: opts.heartbeatIntervalMs ?? d.heartbeatIntervalMs,
    staleAfterMs: opts.staleAfterMs ?? d.staleAfterMs,
    reaperIntervalMs: opts.reaperIntervalMs ?? d.reaperIntervalMs,
    retention: { ...d.retention, ...opts.retention },
    listen: opts.listen ?? d.listen,
    preparedStatements: opts.preparedStatements ?? d.preparedStatements,
    logEvents: opts.logEvents ?? true,
    version: opts.version ?? d.version,
    workerId: opts.workerId ?? defaultWorkerId(),
  };
  const parsed = shape.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const option = issue.path.map(String).join(".");
    throw new CutoverError("CONFIG_INVALID", `consumer option ${option}: ${issue.message}`, {
      details: { option, issues: parsed.error.issues },
    });
  }
  const o = parsed.data;
  if (o.staleAfterMs <= o.heartbeatIntervalMs) {
    throw new CutoverError(
      "CONFIG_INVALID",
      `consumer option staleAfterMs (${o.staleAfterMs}) must exceed heartbeatIntervalMs (${o.heartbeatIntervalMs}), or live workers look dead`,
      { details: { option: "staleAfterMs" } },
    );
  }
  return {
    ...o,
    databaseUrl: opts.databaseUrl,
    pool: opts.pool,
    schema,
    generation,
    handlers,
    events: opts.events,
    logger: opts.logger ?? silentLogger,
  };
}
