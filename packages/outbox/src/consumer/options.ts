import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type pg from "pg";
import { z } from "zod";
import { CutoverError } from "../errors.js";
import { parseGeneration } from "../generation.js";
import { type CatalogLike, type HandlerDefinition, validateHandlers } from "../handler.js";
import { DEFAULT_SCHEMA, validateSchemaName } from "../identifiers.js";
import { type Logger, silentLogger } from "../logger.js";
import { bare, fieldAt, int, MAX_MS, ms, object, optionError } from "../option-errors.js";

/*
 * The consumer's options, declared once: each field's type, limits, default
 * and meaning are here. ConsumerOptions, RetentionOptions, CONSUMER_DEFAULTS
 * and the validation of createConsumer are derived from these schemas, and
 * so are the worker's environment variables (apps/worker/src/config.ts maps
 * each variable to a field; its ranges and defaults come from here).
 */

const retentionSchema = z.strictObject({
  /** Delete `done` rows processed longer ago than this. Default 24 h. */
  doneAfterMs: ms(0).default(24 * 3600_000),
  /**
   * Delete `event_handled` rows older than this whose outbox row is done or
   * already pruned (never one whose event may still run). Default 7 days.
   */
  handledAfterMs: ms(0).default(7 * 24 * 3600_000),
  /** Delete `exited` workers rows last seen longer ago than this. Default 24 h. */
  exitedWorkersAfterMs: ms(0).default(24 * 3600_000),
  /** How often the pruner runs. Default 60 s. */
  intervalMs: ms(10).default(60_000),
  /** Rows per DELETE statement. Default 1000. */
  batchSize: int(1, 100_000).default(1000),
});

/**
 * The options that are plain values with a default (what CONSUMER_DEFAULTS
 * holds, and what the worker reads from its environment).
 */
const settingsShape = {
  /** Schema holding Cutover's tables. Default `cutover`. */
  schema: z.string().default(DEFAULT_SCHEMA),
  /** Recorded in the workers row (git sha, image tag). Default "". */
  version: z.string().max(200).default(""),
  /** Chunks processed at once, each a transaction on its own connection. Default 4. */
  concurrency: int(1, 256).default(4),
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
  batchSize: int(1, 1000).default(500),
  /** Backstop poll when no notification arrives. Default 1000 ms. */
  pollIntervalMs: ms(10).default(1000),
  /** Lease per claim; extended every leaseMs/3 while handlers run. Default 60 s. */
  leaseMs: ms(100).default(60_000),
  /** Per-try handler time limit. Default 30 s. */
  handlerTimeoutMs: ms(1).default(30_000),
  /** Tries before an event goes dead. Default 10. */
  maxAttempts: int(1, 1_000_000).default(10),
  /** Retry delay: random(0, min(maxMs, baseMs * 2^(attempt-1))) (full jitter). Defaults 1000 / 300000 ms. */
  backoff: z.strictObject({ baseMs: ms(0).default(1000), maxMs: ms(0).default(300_000) }).prefault({}),
  /** How often the workers row is refreshed. Default 5 s. */
  heartbeatIntervalMs: ms(10).default(5000),
  /** A worker whose last_seen is older than this is gone; its rows are reaped. Default 30 s. */
  staleAfterMs: ms(100).default(30_000),
  /** How often the reaper looks for stuck rows of this generation. Default 10 s. */
  reaperIntervalMs: ms(10).default(10_000),
  /**
   * What completes a handled event's outbox row, in the chunk's transaction
   * and behind the same fence as every release (generation, in_flight, owner).
   * Default "delete": the row is deleted; its event_handled rows (kept
   * retention.handledAfterMs) are the record that it was handled. One heap
   * version and no index entries fewer per event than "keep" (measured in
   * tools/bench/profile/PROFILE.md, section 12). "keep": the row goes `done`
   * with processed_at and is pruned after retention.doneAfterMs, for
   * operators who read done rows. Either way the publish dedupe on
   * (topic, idempotency key) only sees rows still in the outbox
   * (docs/guarantees.md, "Completion by delete").
   */
  completion: z.enum(["delete", "keep"]).default("delete"),
  /** Housekeeping: what the pruner deletes, and how often. */
  retention: retentionSchema.prefault({}),
  /** LISTEN for wake-ups (else poll only). Default true. */
  listen: z.boolean().default(true),
  /**
   * Send the hot statements (claim, event_handled insert, completion,
   * release, lease extension, heartbeat) as named prepared statements, parsed
   * once per connection. Default true. Set false behind PgBouncer in
   * transaction mode older than 1.21 (or with max_prepared_statements = 0).
   */
  preparedStatements: z.boolean().default(true),
  /**
   * Log each outcome (handled, failed, dead, reaped, state) through `logger`.
   * Default true. Set false when you subscribe to the events and log them
   * yourself.
   */
  logEvents: z.boolean().default(true),
};

/** How a handled event's outbox row is completed (the `completion` option). */
export type Completion = "delete" | "keep";

/** Every option plain data with a default; parsing `{}` gives CONSUMER_DEFAULTS. */
export const consumerSettingsSchema = z.strictObject(settingsShape);

/** Every option of createConsumer, in the order they are validated. */
const consumerOptionsSchema = z.strictObject({
  /** Where to connect. One of databaseUrl / pool is required. */
  databaseUrl: z.string().optional(),
  /**
   * A pool to use instead (not ended by stop()). Size it concurrency + 3.
   * The LISTEN connection is always a dedicated client built from
   * `pool.options`.
   */
  pool: object<pg.Pool>("a pg Pool").optional(),
  /** The generation served. Default CUTOVER_GENERATION from `env`; verified allocated at start(). */
  generation: z.custom<number>().optional(),
  /** Environment read for CUTOVER_GENERATION. Default process.env. */
  env: object<Record<string, string | undefined>>("an object of environment variables").optional(),
  /** Unique id of this worker (workers.id, claimed_by). Default host-pid-random. */
  workerId: z
    .string()
    .min(1)
    .max(100)
    .default(() => `${hostname().slice(0, 40)}-${process.pid}-${randomBytes(3).toString("hex")}`),
  /** The handlers to run: non-empty, names unique (checked by validateHandlers). */
  handlers: z.custom<HandlerDefinition[]>(),
  /** When given, payloads are re-validated (zod transforms applied) before handlers; failures go dead. */
  events: object<CatalogLike>("the catalog returned by defineEvents").optional(),
  ...settingsShape,
  /** Where the consumer logs (pino-shaped). Default silent. */
  // A function, not the object: zod copies an object default, and the
  // consumer recognises the silent logger by identity (no outcome log).
  logger: object<Logger>("a logger (pino-shaped)").default(() => silentLogger),
});

/** The options of createConsumer (what you pass). */
export type ConsumerOptions = z.input<typeof consumerOptionsSchema>;
/** The `retention` option. */
export type RetentionOptions = z.input<typeof retentionSchema>;
/** The plain-value options with every default applied (CONSUMER_DEFAULTS' shape). */
export type ConsumerSettings = z.output<typeof consumerSettingsSchema>;

type DeepReadonly<T> = { readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K] };

function deepFreeze<T>(value: T): DeepReadonly<T> {
  for (const v of Object.values(value as object)) if (typeof v === "object" && v !== null) deepFreeze(v);
  return Object.freeze(value) as DeepReadonly<T>;
}

/** Every default, derived from the schema. */
export const CONSUMER_DEFAULTS = deepFreeze(consumerSettingsSchema.parse({}));

/**
 * Options that must exceed another, checked once each is valid on its own.
 * The worker reports them under its variables' names.
 */
export const SETTING_RELATIONS = [
  { option: "staleAfterMs", exceeds: "heartbeatIntervalMs", why: "or live workers look dead" },
] as const satisfies ReadonlyArray<{
  option: keyof ConsumerSettings;
  exceeds: keyof ConsumerSettings;
  why: string;
}>;

/** The dotted paths of the settings that hold a number, a boolean or a word (what an environment variable can set). */
export type SettingPath = {
  [K in keyof ConsumerSettings & string]: ConsumerSettings[K] extends number | boolean | Completion
    ? K
    : ConsumerSettings[K] extends object
      ? `${K}.${keyof ConsumerSettings[K] & string}`
      : never;
}[keyof ConsumerSettings & string];

/** What one setting accepts: an integer in [min, max], a boolean, or one of some words; with its default. */
export type SettingSpec =
  | { kind: "integer"; min: number; max: number; default: number }
  | { kind: "boolean"; default: boolean }
  | { kind: "choice"; values: readonly string[]; default: string };

/** The type, limits and default of one setting, from its schema. */
export function settingSpec(path: SettingPath): SettingSpec {
  const keys = path.split(".");
  const leaf = bare(fieldAt(consumerSettingsSchema, keys)!);
  let fallback: unknown = CONSUMER_DEFAULTS;
  for (const k of keys) fallback = (fallback as Record<string, unknown>)[k];
  if (leaf instanceof z.ZodBoolean) return { kind: "boolean", default: fallback as boolean };
  if (leaf instanceof z.ZodEnum)
    return { kind: "choice", values: leaf.options as string[], default: fallback as string };
  const n = leaf as z.ZodNumber;
  return { kind: "integer", min: n.minValue ?? 0, max: n.maxValue ?? MAX_MS, default: fallback as number };
}

type Parsed = z.output<typeof consumerOptionsSchema>;

/** The options as the consumer uses them: validated, every default applied. */
export type ResolvedOptions = Omit<Parsed, "env" | "generation" | "handlers"> & {
  generation: number;
  handlers: readonly HandlerDefinition[];
};

/**
 * Validates options once, at construction: the schema's types, limits and
 * defaults, then what needs more than one field or the library's own
 * validators (schema name, generation, handlers). The error names the option.
 */
export function resolveOptions(opts: ConsumerOptions): ResolvedOptions {
  if (opts === null || typeof opts !== "object") {
    throw new CutoverError("CONFIG_INVALID", "createConsumer needs an options object");
  }
  const parsed = consumerOptionsSchema.safeParse(opts);
  if (!parsed.success) throw optionError("consumer option", consumerOptionsSchema, opts, parsed.error.issues);
  const { env, generation, handlers, ...o } = parsed.data;
  if (!o.databaseUrl && !o.pool) {
    throw new CutoverError("CONFIG_INVALID", "databaseUrl or pool is required", {
      details: { option: "databaseUrl" },
    });
  }
  validateSchemaName(o.schema);
  for (const { option, exceeds, why } of SETTING_RELATIONS) {
    if (o[option] <= o[exceeds]) {
      throw new CutoverError(
        "CONFIG_INVALID",
        `consumer option ${option} (${o[option]}) must exceed ${exceeds} (${o[exceeds]}), ${why}`,
        { details: { option } },
      );
    }
  }
  return {
    ...o,
    generation:
      generation !== undefined
        ? parseGeneration(generation, "generation")
        : parseGeneration((env ?? process.env).CUTOVER_GENERATION),
    handlers: validateHandlers(handlers, o.events),
  };
}
