import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { CutoverError } from "@cutover/outbox";
import {
  type ConsumerSettings,
  consumerSettingsSchema,
  DEFAULT_SCHEMA,
  parseGeneration,
  SETTING_RELATIONS,
  type SettingPath,
  settingSpec,
  validateSchemaName,
} from "@cutover/outbox/internal";
import { z } from "zod";
import { passwordOf, registerSecret } from "./redact.js";

/**
 * The worker's own defaults, in one object. The consumer variables'
 * defaults are the library's (CONSUMER_VARIABLES below); docs/worker.md
 * lists every variable.
 */
export const WORKER_DEFAULTS = {
  port: 8080,
  host: "0.0.0.0",
  schema: DEFAULT_SCHEMA,
  shutdownTimeoutMs: 25_000,
  /** How long `run` and `drain` wait for an unreachable database at start (0 = fail at once). */
  startupTimeoutMs: 60_000,
  statusIntervalMs: 5_000,
  /** OUTBOX_METRICS_TENANT_LABELS: tenants that get their own metric label value (0 = no tenant label). */
  metricsTenantLabels: 0,
  logLevel: "info",
  serviceName: "outbox-worker",
  environment: "production",
} as const;

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

/** The validated configuration of one worker process. */
export interface WorkerConfig {
  /** Never print this: use redactUrl(). */
  databaseUrl: string;
  schema: string;
  /** Absent for commands that do not serve a generation. */
  generation: number | undefined;
  /** Absolute path of the handler module, if configured. */
  handlersPath: string | undefined;
  /** OUTBOX_RELAYS as given (JSON or a path), validated by the relays module. */
  relays: string | undefined;
  port: number;
  host: string;
  workerId: string | undefined;
  version: string | undefined;
  serviceName: string;
  environment: string;
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
  /** OUTBOX_STARTUP_TIMEOUT_MS: retry connection failures that can heal for this long at start; 0 = fail at once. */
  startupTimeoutMs: number;
  statusIntervalMs: number;
  /**
   * OUTBOX_METRICS_TENANT_LABELS: with N > 0 the event counters carry a
   * `tenant` label, whose value is the tenant for the first N tenants this
   * worker sees and "other" after that, so a tenant-rich outbox cannot
   * explode the series count. 0 (default): no tenant label.
   */
  metricsTenantLabels: number;
  /** The consumer options CONSUMER_VARIABLES sets, defaults applied. */
  consumer: ConsumerConfig;
}

export type Env = Record<string, string | undefined>;

/** A configuration value is wrong: `variable` names it; the message is one line. */
export class ConfigError extends CutoverError {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super("CONFIG_INVALID", `${variable} ${problem}`, { details: { variable } });
    this.name = "ConfigError";
    this.variable = variable;
  }
}

const MAX_MS = 2_147_483_647;

/**
 * The environment variables that set consumer options: one entry per
 * variable, naming the option it sets. Each variable's type, range and
 * default are that option's, from the library's schema (settingSpec), and
 * so are the help text's and docs/worker.md's listings (a test checks the
 * docs). Read in this order; the first wrong one is reported. (Pairs of
 * quoted names, so tools/deploy-manifest-check.mjs finds the variables.)
 */
export const CONSUMER_VARIABLES = [
  ["OUTBOX_CONCURRENCY", "concurrency"],
  ["OUTBOX_BATCH_SIZE", "batchSize"],
  ["OUTBOX_POLL_INTERVAL_MS", "pollIntervalMs"],
  ["OUTBOX_LEASE_MS", "leaseMs"],
  ["OUTBOX_HANDLER_TIMEOUT_MS", "handlerTimeoutMs"],
  ["OUTBOX_MAX_ATTEMPTS", "maxAttempts"],
  ["OUTBOX_BACKOFF_BASE_MS", "backoff.baseMs"],
  ["OUTBOX_BACKOFF_MAX_MS", "backoff.maxMs"],
  ["OUTBOX_HEARTBEAT_INTERVAL_MS", "heartbeatIntervalMs"],
  ["OUTBOX_STALE_AFTER_MS", "staleAfterMs"],
  ["OUTBOX_REAPER_INTERVAL_MS", "reaperIntervalMs"],
  ["OUTBOX_RETENTION_DONE_MS", "retention.doneAfterMs"],
  ["OUTBOX_RETENTION_HANDLED_MS", "retention.handledAfterMs"],
  ["OUTBOX_RETENTION_INTERVAL_MS", "retention.intervalMs"],
  ["OUTBOX_LISTEN", "listen"],
  ["OUTBOX_PREPARED_STATEMENTS", "preparedStatements"],
  ["OUTBOX_COMPLETION", "completion"],
] as const satisfies ReadonlyArray<readonly [variable: string, option: SettingPath]>;

type TopOption<P> = P extends `${infer Head}.${string}` ? Head : P;

/** The consumer options the environment can set, every default applied. */
export type ConsumerConfig = Pick<
  ConsumerSettings,
  TopOption<(typeof CONSUMER_VARIABLES)[number][1]> & keyof ConsumerSettings
>;

function shown(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}...` : raw);
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const parsed = z.coerce.number().int().min(min).max(max).safeParse(raw.trim());
  if (!/^-?[0-9]+$/.test(raw.trim()) || !parsed.success) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}; got ${shown(raw)}`);
  }
  return parsed.data;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new ConfigError(name, `must be true or false; got ${shown(raw)}`);
}

function choice(env: Env, name: string, fallback: string, values: readonly string[]): string {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const v = raw.trim().toLowerCase();
  if (values.includes(v)) return v;
  throw new ConfigError(name, `must be ${values.join(" or ")}; got ${shown(raw)}`);
}

/** The integer and boolean readers, for variables read outside loadConfig (retire.ts); same messages. */
export { bool as readBool, int as readInt };

function text(env: Env, name: string, max = 200): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  if (raw.length > max) throw new ConfigError(name, `must be at most ${max} characters`);
  return raw.trim();
}

function databaseUrl(env: Env): string {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw.trim() === "") {
    throw new ConfigError(
      "DATABASE_URL",
      "is not set: set it to postgres://user:password@host:5432/database",
    );
  }
  // Registered before validating, so even a malformed value is never echoed.
  registerSecret(passwordOf(raw));
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(
      "DATABASE_URL",
      "is not a valid URL: expected postgres://user:password@host:5432/database",
    );
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ConfigError(
      "DATABASE_URL",
      `must use the postgres:// or postgresql:// scheme; got ${url.protocol.replace(/:$/, "")}://`,
    );
  }
  if (!url.hostname && !url.searchParams.get("host")) {
    throw new ConfigError(
      "DATABASE_URL",
      "has no host: expected postgres://user:password@host:5432/database",
    );
  }
  return raw.trim();
}

const variableOf = (option: string): string | undefined =>
  CONSUMER_VARIABLES.find(([, path]) => path === option)?.[0];

/**
 * Reads every variable of CONSUMER_VARIABLES (numbers, booleans and words coerced,
 * each checked against its option's range, errors naming the variable),
 * then fills the defaults and checks the options that must exceed another
 * through the library's own schema and rules.
 */
function readConsumerVariables(env: Env): ConsumerConfig {
  const given: Record<string, Record<string, unknown> | unknown> = {};
  for (const [name, path] of CONSUMER_VARIABLES) {
    const spec = settingSpec(path);
    const value =
      spec.kind === "boolean"
        ? bool(env, name, spec.default)
        : spec.kind === "choice"
          ? choice(env, name, spec.default, spec.values)
          : int(env, name, spec.default, spec.min, spec.max);
    const [top, inner] = path.split(".") as [string, string | undefined];
    if (inner === undefined) given[top] = value;
    else given[top] = { ...(given[top] as object), [inner]: value };
  }
  const settings = consumerSettingsSchema.parse(given);
  for (const { option, exceeds, why } of SETTING_RELATIONS) {
    if (settings[option] <= settings[exceeds]) {
      throw new ConfigError(
        variableOf(option) ?? option,
        `(${settings[option]}) must exceed ${variableOf(exceeds) ?? exceeds} (${settings[exceeds]}), ${why}`,
      );
    }
  }
  const tops = new Set(CONSUMER_VARIABLES.map(([, path]) => path.split(".")[0]!));
  return Object.fromEntries(
    Object.entries(settings).filter(([option]) => tops.has(option)),
  ) as unknown as ConsumerConfig;
}

const LOG_LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/**
 * CUTOVER_GENERATION_FILE: a file holding the generation, written by a
 * one-shot `generation allocate` step (the Compose example's `allocate`
 * service), for orchestrators that cannot pass one step's output into the
 * next one's environment. Read only when CUTOVER_GENERATION is unset.
 */
function generationFromFile(path: string, cwd: string): number {
  const full = isAbsolute(path) ? path : resolve(cwd, path);
  let raw: string;
  try {
    raw = readFileSync(full, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError("CUTOVER_GENERATION_FILE", `cannot read ${full} (${code})`);
  }
  try {
    return parseGeneration(raw.trim());
  } catch {
    throw new ConfigError(
      "CUTOVER_GENERATION_FILE",
      `must hold a positive integer (the number printed by \`outbox-worker generation allocate\`); ${full} holds ${shown(raw.trim().slice(0, 40))}`,
    );
  }
}

export interface LoadOptions {
  /** CUTOVER_GENERATION must be set (run, drain). */
  needGeneration?: boolean;
  /** OUTBOX_HANDLERS or OUTBOX_RELAYS must be set (run, drain). */
  needHandlers?: boolean;
  /** Resolve relative paths against this (default process.cwd()). */
  cwd?: string;
}

/**
 * Reads and validates the worker's configuration from `env`. Throws
 * {@link ConfigError} naming the first wrong variable; the DATABASE_URL
 * password is registered as a secret before anything else happens, so no
 * later output can contain it.
 */
export function loadConfig(env: Env, opts: LoadOptions = {}): WorkerConfig {
  const url = databaseUrl(env);
  const schemaRaw = text(env, "CUTOVER_SCHEMA", 63) ?? WORKER_DEFAULTS.schema;
  let schema: string;
  try {
    schema = validateSchemaName(schemaRaw);
  } catch {
    throw new ConfigError(
      "CUTOVER_SCHEMA",
      `must be a lower-case SQL identifier (letters, digits, _); got ${shown(schemaRaw)}`,
    );
  }

  let generation: number | undefined;
  const genRaw = env.CUTOVER_GENERATION;
  const genFile = env.CUTOVER_GENERATION_FILE?.trim() ? env.CUTOVER_GENERATION_FILE.trim() : undefined;
  if (genRaw !== undefined && genRaw.trim() !== "") {
    try {
      generation = parseGeneration(genRaw.trim());
    } catch {
      throw new ConfigError(
        "CUTOVER_GENERATION",
        `must be a positive integer (the number printed by \`outbox-worker generation allocate\`); got ${shown(genRaw)}`,
      );
    }
  } else if (genFile !== undefined) {
    generation = generationFromFile(genFile, opts.cwd ?? process.cwd());
  } else if (opts.needGeneration) {
    throw new ConfigError(
      "CUTOVER_GENERATION",
      "is not set: set it (or CUTOVER_GENERATION_FILE) to the number printed by `outbox-worker generation allocate --version <sha>`",
    );
  }

  const cwd = opts.cwd ?? process.cwd();
  const handlersRaw = text(env, "OUTBOX_HANDLERS", 4096);
  const handlersPath =
    handlersRaw === undefined ? undefined : isAbsolute(handlersRaw) ? handlersRaw : resolve(cwd, handlersRaw);
  const relays = env.OUTBOX_RELAYS?.trim() ? env.OUTBOX_RELAYS.trim() : undefined;
  if (opts.needHandlers && handlersPath === undefined && relays === undefined) {
    throw new ConfigError(
      "OUTBOX_HANDLERS",
      "is not set: set it to the path of a module exporting `handlers` (or configure OUTBOX_RELAYS)",
    );
  }

  const logLevelRaw = (text(env, "LOG_LEVEL", 10) ?? WORKER_DEFAULTS.logLevel).toLowerCase();
  if (!LOG_LEVELS.includes(logLevelRaw as LogLevel)) {
    throw new ConfigError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}; got ${shown(logLevelRaw)}`);
  }

  const consumer = readConsumerVariables(env);
  const workerId = text(env, "OUTBOX_WORKER_ID", 100);
  if (workerId !== undefined && !/^[A-Za-z0-9._:-]+$/.test(workerId)) {
    throw new ConfigError("OUTBOX_WORKER_ID", "may only contain letters, digits and . _ : -");
  }

  return {
    databaseUrl: url,
    schema,
    generation,
    handlersPath,
    relays,
    port: int(env, "PORT", WORKER_DEFAULTS.port, 0, 65_535),
    host: text(env, "OUTBOX_HTTP_HOST", 100) ?? WORKER_DEFAULTS.host,
    workerId,
    version: text(env, "OUTBOX_VERSION"),
    serviceName: text(env, "OUTBOX_SERVICE_NAME", 100) ?? WORKER_DEFAULTS.serviceName,
    environment: text(env, "OUTBOX_ENVIRONMENT", 100) ?? WORKER_DEFAULTS.environment,
    logLevel: logLevelRaw as LogLevel,
    shutdownTimeoutMs: int(env, "OUTBOX_SHUTDOWN_TIMEOUT_MS", WORKER_DEFAULTS.shutdownTimeoutMs, 0, MAX_MS),
    startupTimeoutMs: int(env, "OUTBOX_STARTUP_TIMEOUT_MS", WORKER_DEFAULTS.startupTimeoutMs, 0, MAX_MS),
    statusIntervalMs: int(env, "OUTBOX_STATUS_INTERVAL_MS", WORKER_DEFAULTS.statusIntervalMs, 100, MAX_MS),
    metricsTenantLabels: int(
      env,
      "OUTBOX_METRICS_TENANT_LABELS",
      WORKER_DEFAULTS.metricsTenantLabels,
      0,
      1000,
    ),
    consumer,
  };
}
