import { isAbsolute, resolve } from "node:path";
import {
  CONSUMER_DEFAULTS,
  CutoverError,
  DEFAULT_SCHEMA,
  parseGeneration,
  validateSchemaName,
} from "@cutover/outbox";
import { z } from "zod";
import { passwordOf, registerSecret } from "./redact.js";

/**
 * The worker's own defaults, in one object. Consumer tuning defaults are the
 * library's CONSUMER_DEFAULTS; docs/worker.md lists every variable.
 */
export const WORKER_DEFAULTS = {
  port: 8080,
  host: "0.0.0.0",
  schema: DEFAULT_SCHEMA,
  shutdownTimeoutMs: 25_000,
  /** How long `run` and `drain` wait for an unreachable database at start (0 = fail at once). */
  startupTimeoutMs: 60_000,
  statusIntervalMs: 5_000,
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
  consumer: {
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
    retention: { doneAfterMs: number; handledAfterMs: number; intervalMs: number };
    listen: boolean;
    preparedStatements: boolean;
  };
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

const LOG_LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

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
  if (genRaw !== undefined && genRaw.trim() !== "") {
    try {
      generation = parseGeneration(genRaw.trim());
    } catch {
      throw new ConfigError(
        "CUTOVER_GENERATION",
        `must be a positive integer (the number printed by \`outbox-worker generation allocate\`); got ${shown(genRaw)}`,
      );
    }
  } else if (opts.needGeneration) {
    throw new ConfigError(
      "CUTOVER_GENERATION",
      "is not set: set it to the number printed by `outbox-worker generation allocate --version <sha>`",
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

  const d = CONSUMER_DEFAULTS;
  const heartbeatIntervalMs = int(env, "OUTBOX_HEARTBEAT_INTERVAL_MS", d.heartbeatIntervalMs, 10, MAX_MS);
  const staleAfterMs = int(env, "OUTBOX_STALE_AFTER_MS", d.staleAfterMs, 100, MAX_MS);
  if (staleAfterMs <= heartbeatIntervalMs) {
    throw new ConfigError(
      "OUTBOX_STALE_AFTER_MS",
      `(${staleAfterMs}) must exceed OUTBOX_HEARTBEAT_INTERVAL_MS (${heartbeatIntervalMs}), or live workers look dead`,
    );
  }
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
    consumer: {
      concurrency: int(env, "OUTBOX_CONCURRENCY", d.concurrency, 1, 256),
      batchSize: int(env, "OUTBOX_BATCH_SIZE", d.batchSize, 1, 1000),
      pollIntervalMs: int(env, "OUTBOX_POLL_INTERVAL_MS", d.pollIntervalMs, 10, MAX_MS),
      leaseMs: int(env, "OUTBOX_LEASE_MS", d.leaseMs, 100, MAX_MS),
      handlerTimeoutMs: int(env, "OUTBOX_HANDLER_TIMEOUT_MS", d.handlerTimeoutMs, 1, MAX_MS),
      maxAttempts: int(env, "OUTBOX_MAX_ATTEMPTS", d.maxAttempts, 1, 1_000_000),
      backoff: {
        baseMs: int(env, "OUTBOX_BACKOFF_BASE_MS", d.backoff.baseMs, 0, MAX_MS),
        maxMs: int(env, "OUTBOX_BACKOFF_MAX_MS", d.backoff.maxMs, 0, MAX_MS),
      },
      heartbeatIntervalMs,
      staleAfterMs,
      reaperIntervalMs: int(env, "OUTBOX_REAPER_INTERVAL_MS", d.reaperIntervalMs, 10, MAX_MS),
      retention: {
        doneAfterMs: int(env, "OUTBOX_RETENTION_DONE_MS", d.retention.doneAfterMs, 0, MAX_MS),
        handledAfterMs: int(env, "OUTBOX_RETENTION_HANDLED_MS", d.retention.handledAfterMs, 0, MAX_MS),
        intervalMs: int(env, "OUTBOX_RETENTION_INTERVAL_MS", d.retention.intervalMs, 10, MAX_MS),
      },
      listen: bool(env, "OUTBOX_LISTEN", d.listen),
      preparedStatements: bool(env, "OUTBOX_PREPARED_STATEMENTS", d.preparedStatements),
    },
  };
}
