import { type Consumer, isCutoverError } from "@cutover/outbox";
import { assembleConsumer, checkWorkload, defaultWorkerId, ensureSchema, opsPool } from "../assemble.js";
import type { Env, WorkerConfig } from "../config.js";
import { type HttpServer, startHttpServer } from "../http-server.js";
import { createLogger, type LineSink, type WorkerLogger } from "../logging.js";
import { createMetrics } from "../metrics.js";
import { redactText, redactUrl } from "../redact.js";
import type { Relay } from "../relay-host.js";
import { loadRetireConfig, RetireWatch } from "../retire.js";
import { type StartupState, startupExitCode, waitForDatabase } from "../startup.js";
import { StatusSampler } from "../status-sampler.js";
import { WORKER_VERSION } from "../version.js";

export interface RunOptions {
  /** Migrate first instead of refusing to start when the schema is behind. */
  migrate: boolean;
  env: Env;
  /** Resolves when the worker should stop (SIGTERM/SIGINT). */
  stopSignal: Promise<string>;
  logSink?: LineSink;
}

type Phase = "starting" | "running" | "stopping" | "stopped";

interface ServingRoutes {
  health(): { status: number; body: unknown };
  ready(): { status: number; body: unknown };
  metrics(): Promise<{ contentType: string; body: string }>;
}

/** /health before the consumer exists: alive (a restart would not bring the database), not ok. */
function startingHealth(meta: Record<string, unknown>, startup: StartupState, phase: Phase) {
  return {
    status: phase === "starting" ? "starting" : "stopping",
    ...meta,
    state: phase === "starting" ? "starting" : "stopping",
    checks: {
      database: {
        ok: startup.connected === true,
        attempt: startup.attempt,
        nextDelayMs: startup.nextDelayMs ?? null,
        ...(startup.lastError ? { lastError: redactText(startup.lastError) } : {}),
      },
    },
    relays: {},
  };
}

/** Overall liveness from the consumer's and relays' health. */
function healthBody(
  consumer: Consumer,
  relays: readonly Relay[],
  sampler: StatusSampler,
  meta: Record<string, unknown>,
  phase: Phase,
  intervals: { reaperIntervalMs: number; pollIntervalMs: number; statusIntervalMs: number },
) {
  const h = consumer.health();
  const now = Date.now();
  const fresh = (d: Date | null | undefined, everyMs: number) =>
    d !== null && d !== undefined && now - d.getTime() <= 3 * everyMs + 1000;
  const mine = sampler.latest?.generations.find((g) => g.generation === consumer.generation);
  const checks = {
    database: {
      ok: h.database.ok,
      ...(h.database.lastError ? { lastError: redactText(h.database.lastError) } : {}),
    },
    listen: {
      ok: h.listen.ok,
      enabled: h.listen.enabled,
      connected: h.listen.connected,
      lastNotificationAt: h.listen.lastNotificationAt ?? null,
    },
    heartbeat: { ok: h.heartbeat.ok, lastBeatAt: h.heartbeat.lastBeatAt },
    reaper: {
      ok: fresh(h.reaper.lastRunAt, intervals.reaperIntervalMs),
      lastRunAt: h.reaper.lastRunAt,
      lastReaped: h.reaper.lastReaped,
    },
    poller: { ok: fresh(h.poller.lastPollAt, intervals.pollIntervalMs), lastPollAt: h.poller.lastPollAt },
    lag: {
      ok: fresh(sampler.sampledAt, intervals.statusIntervalMs),
      oldestPendingAgeMs: mine?.oldestPendingAgeMs ?? null,
      pending: mine?.pending ?? null,
      inFlight: mine?.inFlight ?? null,
      sampledAt: sampler.sampledAt ?? null,
      ...(sampler.lastError ? { lastError: redactText(sampler.lastError) } : {}),
    },
  };
  const relayHealth: Record<string, unknown> = {};
  let relaysOk = true;
  for (const r of relays) {
    const rh = r.health();
    if (!rh.ok || rh.degraded) relaysOk = false;
    relayHealth[r.name] = {
      kind: r.kind,
      ...rh,
      ...(rh.lastError ? { lastError: redactText(rh.lastError) } : {}),
    };
  }
  const serving = phase === "running" && h.state !== "stopped";
  const allOk = serving && relaysOk && Object.values(checks).every((c) => c.ok);
  // Liveness fails only when a restart can help: the consumer stopped while
  // the process was not shutting down. A database outage is "degraded": the
  // worker reconnects by itself, and restarting it would not bring Postgres back.
  const down = h.state === "stopped" && phase === "running";
  const status = down ? "down" : phase === "starting" ? "starting" : allOk ? "ok" : "degraded";
  return {
    status: down ? 503 : 200,
    body: {
      status,
      ...meta,
      state: phase === "stopping" ? "draining" : h.state,
      checks,
      relays: relayHealth,
    },
  };
}

/**
 * `outbox-worker run`: schema check (or --migrate), the consumer with the
 * handler module and relays, HTTP /health /ready /metrics, and a clean stop
 * on `stopSignal`. Resolves with the exit code.
 */
export async function runCommand(config: WorkerConfig, opts: RunOptions): Promise<number> {
  const workerId = config.workerId ?? defaultWorkerId();
  const logger: WorkerLogger = createLogger(
    config.logLevel,
    {
      service: config.serviceName,
      environment: config.environment,
      generation: config.generation,
      worker_id: workerId,
    },
    opts.logSink,
  );
  const pool = opsPool(config);
  const sampler = new StatusSampler(pool, {
    schema: config.schema,
    staleAfterMs: config.consumer.staleAfterMs,
    intervalMs: config.statusIntervalMs,
  });
  let phase: Phase = "starting";
  let http: HttpServer | undefined;
  let assembled: Awaited<ReturnType<typeof assembleConsumer>> | undefined;
  let serving: ServingRoutes | undefined;
  let started = false;
  let exitCode = 0;
  let retireWatch: RetireWatch | undefined;
  const startedAt = Date.now();
  const startup: StartupState = { attempt: 0, lastError: undefined, nextDelayMs: undefined };
  const startupMeta = {
    service: config.serviceName,
    workerVersion: WORKER_VERSION,
    generation: config.generation,
    workerId,
  };
  try {
    const retireConfig = loadRetireConfig(opts.env);
    // A missing handler module or bad OUTBOX_RELAYS fails now, not after the database wait.
    checkWorkload(config, opts.env);
    // HTTP first: while the database is awaited, /health answers "starting"
    // (with the last connection error) and /ready answers 503.
    http = await startHttpServer(
      {
        health: () => {
          const r = serving
            ? serving.health()
            : { status: 200, body: startingHealth(startupMeta, startup, phase) };
          return { status: r.status, body: { ...(r.body as object), uptimeMs: Date.now() - startedAt } };
        },
        ready: () =>
          serving
            ? serving.ready()
            : {
                status: 503,
                body: {
                  ready: false,
                  reason: phase === "starting" ? "starting: waiting for the database" : "draining",
                  generation: config.generation,
                  workerId,
                },
              },
        metrics: async () =>
          serving ? serving.metrics() : { contentType: "text/plain; version=0.0.4; charset=utf-8", body: "" },
      },
      { port: config.port, host: config.host },
    );
    logger.info({ port: http.port, host: config.host }, "http listening");
    const waited = await waitForDatabase({
      databaseUrl: config.databaseUrl,
      timeoutMs: config.startupTimeoutMs,
      stopSignal: opts.stopSignal,
      state: startup,
      onRetry: ({ attempt, failure, nextDelayMs, elapsedMs }) =>
        logger.warn(
          {
            database: redactUrl(config.databaseUrl),
            attempt,
            cause: failure.cause,
            code: failure.code,
            next_delay_ms: nextDelayMs,
            elapsed_ms: elapsedMs,
            startup_timeout_ms: config.startupTimeoutMs,
          },
          "database not reachable; retrying",
        ),
    });
    if (waited === "stopped") {
      logger.info({ attempts: startup.attempt }, "stopped while waiting for the database");
    } else {
      await ensureSchema(pool, config, opts.migrate, logger);
      assembled = await assembleConsumer(config, pool, opts.env, workerId, logger);
      const { consumer, relays } = assembled;
      const meta = {
        service: config.serviceName,
        version: assembled.deployVersion,
        workerVersion: WORKER_VERSION,
        generation: consumer.generation,
        workerId,
      };
      const watch = new RetireWatch(pool, {
        schema: config.schema,
        generation: consumer.generation,
        staleAfterMs: config.consumer.staleAfterMs,
        intervalMs: config.statusIntervalMs,
        config: retireConfig,
        logger,
      });
      retireWatch = watch;
      const metrics = createMetrics({
        consumer,
        ...(retireConfig.enabled ? { retire: () => watch.state() } : {}),
        status: () => sampler.latest,
        labels: { generation: consumer.generation, worker_id: workerId },
        tenantLabels: config.metricsTenantLabels,
        handlers: [...(assembled.module?.handlers ?? []), ...relays.map((r) => r.handler)],
      });
      const intervals = {
        reaperIntervalMs: config.consumer.reaperIntervalMs,
        pollIntervalMs: config.consumer.pollIntervalMs,
        statusIntervalMs: config.statusIntervalMs,
      };
      serving = {
        health: () => {
          const r = healthBody(consumer, relays, sampler, meta, phase, intervals);
          return retireConfig.enabled ? { ...r, body: { ...r.body, retire: watch.state() } } : r;
        },
        ready: () => {
          const h = consumer.health();
          const reason =
            phase === "starting"
              ? "starting"
              : phase !== "running"
                ? "draining"
                : h.state === "draining"
                  ? "draining"
                  : h.state !== "running"
                    ? `consumer ${h.state}`
                    : !h.listen.ok
                      ? "LISTEN connection not established"
                      : null;
          return reason === null
            ? { status: 200, body: { ready: true, generation: consumer.generation, workerId } }
            : { status: 503, body: { ready: false, reason, generation: consumer.generation, workerId } };
        },
        metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
      };
      sampler.start();
      await consumer.start();
      started = true;
      phase = "running";
      logger.info(
        {
          version: assembled.deployVersion,
          database: redactUrl(config.databaseUrl),
          schema: config.schema,
          handlers: (assembled.module?.handlers ?? []).map((h) => h.name),
          relays: relays.map((r) => r.name),
          concurrency: config.consumer.concurrency,
          startup_attempts: startup.attempt,
        },
        "worker running",
      );
      watch.start();
      const stop = await Promise.race([opts.stopSignal, watch.retired.then(() => "retired" as const)]);
      if (stop === "retired") {
        logger.info({ timeout_ms: config.shutdownTimeoutMs }, "stopping: generation retired");
      } else {
        logger.info(
          { signal: stop, timeout_ms: config.shutdownTimeoutMs },
          "stopping: finishing in-flight events",
        );
        // In a per-generation Job a signal before retirement (eviction, node drain) must not read as
        // success: the Job controller would then start no replacement and the generation would orphan.
        if (retireConfig.enabled) exitCode = 143;
      }
    }
  } catch (err) {
    // A handler module or OUTBOX_RELAYS that is wrong is configuration: exit 2
    // and the same "config error:" line as every other variable (and as drain).
    const configError = isCutoverError(err, "CONFIG_INVALID");
    exitCode = startupExitCode(err) ?? (configError ? 2 : 1);
    const message = redactText(err instanceof Error ? err.message : String(err));
    logger.fatal(
      { err: message, code: (err as { code?: string }).code, exit_code: exitCode },
      "worker failed",
    );
    process.stderr.write(`outbox-worker: ${configError ? "config error: " : ""}${message.split("\n")[0]}\n`);
  } finally {
    phase = "stopping";
    await retireWatch?.stop();
    if (assembled) {
      await assembled.consumer.stop({ timeoutMs: config.shutdownTimeoutMs });
      await assembled.closeRelays();
    }
    if (retireWatch?.state().retired) {
      // A publisher later than the grace window could have written a row between the last check and
      // the stop: say so and fail, so it is reported (ORPHANED in status) instead of passing silently.
      const open = await retireWatch.read().then(
        (r) => r.open,
        () => null,
      );
      if (open !== null && open > 0) {
        exitCode = 1;
        logger.error(
          { open },
          "rows of this generation arrived after it retired: they are ORPHANED until a worker or drain serves them",
        );
      } else if (open === 0) logger.info({}, "generation retired: no row left pending or in flight");
    }
    await sampler.stop();
    await http?.close();
    await pool.end().catch(() => {});
    phase = "stopped";
    if (started) logger.info({}, "worker stopped");
    logger.flush();
  }
  return exitCode;
}
