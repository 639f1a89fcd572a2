import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  type Consumer,
  CutoverError,
  createConsumer,
  type HandlerDefinition,
  migrate,
  resolveGeneration,
} from "@cutover/outbox";
import { pendingMigrations } from "@cutover/outbox/internal";
import pg from "pg";
import type { WorkerConfig } from "./config.js";
import { eventFields, libraryLogger, type WorkerLogger } from "./logging.js";
import { closeRelays, loadRelays, type Relay, relayHandlers } from "./relay-host.js";
import { loadRelaysConfig } from "./relays/config.js";
import { checkWorkerModulePath, loadWorkerModule, type WorkerModule } from "./worker-module.js";

export function defaultWorkerId(): string {
  return `${hostname().slice(0, 40)}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/** A small pool for the worker's own queries (schema check, status sampling). Errors on idle sockets are absorbed. */
export function opsPool(config: WorkerConfig, max = 2): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max,
    application_name: "outbox-worker",
    connectionTimeoutMillis: 10_000,
  });
  pool.on("error", () => {});
  return pool;
}

/**
 * Refuses to go on when the schema is behind (SCHEMA_BEHIND, naming the
 * migrations), unless `autoMigrate`: then migrates first (advisory-locked,
 * safe from several replicas at once).
 */
export async function ensureSchema(
  pool: pg.Pool,
  config: WorkerConfig,
  autoMigrate: boolean,
  logger: WorkerLogger,
): Promise<void> {
  const pending = await pendingMigrations(pool, config.schema);
  if (pending.length === 0) return;
  if (!autoMigrate) {
    throw new CutoverError(
      "SCHEMA_BEHIND",
      `schema "${config.schema}" is behind: ${pending.length} migration(s) not applied (${pending.join(", ")}); run \`outbox-worker migrate\` first, or start with --migrate`,
      { details: { pending } },
    );
  }
  const { applied } = await migrate({ databaseUrl: config.databaseUrl, schema: config.schema, logger });
  logger.info({ applied, schema: config.schema }, "migrations applied");
}

export interface Assembled {
  consumer: Consumer;
  relays: Relay[];
  module: WorkerModule | undefined;
  deployVersion: string;
  /** Closes the relays (after the consumer stopped). */
  closeRelays(): Promise<void>;
}

/**
 * Checks what the worker will run before it waits for the database: the
 * handler module's file exists, OUTBOX_RELAYS parses, and at least one of
 * them is set. A typo in either is a config error (exit 2) at once, not
 * after OUTBOX_STARTUP_TIMEOUT_MS of waiting for a database that may be
 * down. The module is not imported here: its top-level code may need the
 * database up and migrated (a top-level `await createPublisher(...)`), so
 * it is imported after the wait and `--migrate`, in assembleConsumer, which
 * also checks its exports. Opens no connection (relays connect there too).
 */
export function checkWorkload(config: WorkerConfig, env: Record<string, string | undefined>): void {
  if (config.handlersPath) checkWorkerModulePath(config.handlersPath);
  const relays = loadRelaysConfig(env);
  if (!config.handlersPath && relays.length === 0) throw nothingToRun();
}

function nothingToRun(): CutoverError {
  return new CutoverError(
    "CONFIG_INVALID",
    "OUTBOX_RELAYS configures no relay and OUTBOX_HANDLERS is not set: the worker has nothing to run",
    { details: { variable: "OUTBOX_HANDLERS" } },
  );
}

/**
 * Loads the handler module and relays and builds the consumer for
 * config.generation (verified allocated), logging one JSON line per event
 * outcome with the envelope's event fields.
 */
export async function assembleConsumer(
  config: WorkerConfig,
  pool: pg.Pool,
  env: Record<string, string | undefined>,
  workerId: string,
  logger: WorkerLogger,
): Promise<Assembled> {
  const generation = config.generation!;
  const deployment = await resolveGeneration(pool, { schema: config.schema, generation });
  const module = config.handlersPath ? await loadWorkerModule(config.handlersPath) : undefined;
  const relays = loadRelays(env, logger);
  const handlers: HandlerDefinition[] = [...(module?.handlers ?? []), ...relayHandlers(relays)];
  if (handlers.length === 0) {
    await closeRelays(relays, logger);
    throw nothingToRun();
  }
  const deployVersion = config.version ?? deployment.version;
  let consumer: Consumer;
  try {
    consumer = createConsumer({
      ...config.consumer,
      databaseUrl: config.databaseUrl,
      schema: config.schema,
      generation,
      workerId,
      version: deployVersion,
      handlers,
      ...(module?.events ? { events: module.events } : {}),
      logger: libraryLogger(logger.child({ component: "consumer" })),
      // The worker logs outcomes itself, from the consumer's events (wireEventLogs).
      logEvents: false,
    });
  } catch (err) {
    await closeRelays(relays, logger);
    throw err;
  }
  wireEventLogs(consumer, logger);
  return {
    consumer,
    relays,
    module,
    deployVersion,
    closeRelays: () => closeRelays(relays, logger),
  };
}

const text = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** One JSON line per event outcome, plus connection and state changes. */
function wireEventLogs(consumer: Consumer, logger: WorkerLogger): void {
  consumer.on("handled", (e) =>
    logger.info(
      { ...eventFields(e), handlers: e.handlers, skipped: e.skipped, duration_ms: e.durationMs },
      "event handled",
    ),
  );
  consumer.on("failed", (e) => {
    if (e.retryInMs === null) return; // the "dead" line follows
    logger.warn(
      { ...eventFields(e), handler: e.handler, error: e.error, retry_in_ms: e.retryInMs },
      "event failed; will retry",
    );
  });
  consumer.on("dead", (e) =>
    logger.error({ ...eventFields(e), handler: e.handler, error: e.error }, "event dead"),
  );
  consumer.on("reaped", (e) =>
    logger.warn({ count: e.count, dead: e.dead.length, from_workers: e.fromWorkers }, "reaped stuck rows"),
  );
  consumer.on("reconnecting", (e) =>
    logger.warn(
      { connection: e.connection, attempt: e.attempt, error: e.error },
      "connection lost; reconnecting",
    ),
  );
  consumer.on("reconnected", (e) => logger.info({ connection: e.connection }, "connection re-established"));
  consumer.on("state", (e) => logger.info({ from: e.from, to: e.to }, "worker state"));
  consumer.on("error", (e) => logger.warn({ during: e.during, err: text(e.error) }, "background error"));
}
