import { outboxStatus } from "@cutover/outbox";
import { assembleConsumer, checkWorkload, defaultWorkerId, ensureSchema, opsPool } from "../assemble.js";
import type { Env, WorkerConfig } from "../config.js";
import { createLogger, type LineSink } from "../logging.js";
import { redactText, redactUrl } from "../redact.js";
import { startupExitCode, waitForDatabase } from "../startup.js";
import { duration } from "./format.js";
import type { Io } from "./ops.js";

export interface DrainOptions {
  env: Env;
  /** Give up (exit 1) when rows remain after this long. Default: no limit. */
  timeoutMs: number | undefined;
  /** Progress line interval. */
  progressMs: number;
  stopSignal: Promise<string>;
  logSink?: LineSink;
}

/**
 * `outbox-worker drain`: runs this generation's handlers until no row of the
 * generation is pending or in flight, printing progress, then stops (workers
 * row `exited`) and exits 0 — the Job that empties an old generation before
 * it is retired. Exits 1 on timeout or interruption, with what remains.
 * Waits for an unreachable database like `run` (OUTBOX_STARTUP_TIMEOUT_MS;
 * exit 3 when it refuses us for good, 4 when the wait times out).
 */
export async function drainCommand(config: WorkerConfig, opts: DrainOptions, io: Io): Promise<number> {
  const generation = config.generation!;
  const workerId = config.workerId ?? `drain-${defaultWorkerId()}`;
  const logger = createLogger(
    config.logLevel,
    { service: config.serviceName, environment: config.environment, generation, worker_id: workerId },
    opts.logSink,
  );
  const pool = opsPool(config);
  let assembled: Awaited<ReturnType<typeof assembleConsumer>> | undefined;
  let progress: NodeJS.Timeout | undefined;
  const started = Date.now();
  try {
    // A missing handler module or bad OUTBOX_RELAYS fails now, not after the database wait.
    checkWorkload(config, opts.env);
    const waited = await waitForDatabase({
      databaseUrl: config.databaseUrl,
      timeoutMs: config.startupTimeoutMs,
      stopSignal: opts.stopSignal,
      onRetry: ({ attempt, failure, nextDelayMs }) =>
        io.err(
          `drain: database ${redactUrl(config.databaseUrl)} not reachable (attempt ${attempt}): ${failure.cause}; retrying in ${nextDelayMs} ms\n`,
        ),
    });
    if (waited === "stopped") {
      io.err("drain: interrupted while waiting for the database; nothing was claimed\n");
      return 1;
    }
    await ensureSchema(pool, config, false, logger);
    assembled = await assembleConsumer(config, pool, opts.env, workerId, logger);
    const consumer = assembled.consumer;
    const report = async () => {
      try {
        const s = await outboxStatus(pool, {
          schema: config.schema,
          staleAfterMs: config.consumer.staleAfterMs,
        });
        const g = s.generations.find((x) => x.generation === generation);
        const m = consumer.metrics();
        io.err(
          `drain: generation ${generation}: ${g?.pending ?? 0} pending, ${g?.inFlight ?? 0} in flight, ` +
            `oldest ${duration(g?.oldestPendingAgeMs)}; handled ${m.handled.total}, dead ${m.dead.total} ` +
            `(${duration(Date.now() - started)})\n`,
        );
      } catch (err) {
        io.err(
          `drain: progress unavailable: ${redactText(err instanceof Error ? err.message : String(err))}\n`,
        );
      }
    };
    io.err(`drain: generation ${generation} (schema "${config.schema}") ...\n`);
    await consumer.start();
    await report();
    progress = setInterval(() => void report(), opts.progressMs);
    let interrupted: string | undefined;
    const result = await Promise.race([
      consumer.drain(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      opts.stopSignal.then((s) => {
        interrupted = s;
        return null;
      }),
    ]);
    clearInterval(progress);
    progress = undefined;
    if (result === null) {
      io.err(`drain: interrupted by ${interrupted}; stopping (held rows are released to pending)\n`);
      return 1;
    }
    io.err(
      `drain: generation ${generation}: handled ${result.handled}, dead ${result.dead}, remaining ${result.remaining} (${duration(Date.now() - started)})\n`,
    );
    if (result.remaining > 0) {
      io.err(
        `drain: ${result.remaining} row(s) remain (delayed retries or future available_at count); rerun or raise --timeout\n`,
      );
      return 1;
    }
    io.out(`generation ${generation} drained: ${result.handled} handled, ${result.dead} dead\n`);
    return 0;
  } catch (err) {
    const exit = startupExitCode(err);
    if (exit === undefined) throw err;
    io.err(`outbox-worker: ${(err as Error).message}\n`);
    return exit;
  } finally {
    if (progress) clearInterval(progress);
    await assembled?.consumer.stop({ timeoutMs: config.shutdownTimeoutMs });
    await assembled?.closeRelays();
    await pool.end().catch(() => {});
    logger.flush();
  }
}
