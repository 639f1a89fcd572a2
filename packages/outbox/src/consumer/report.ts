/**
 * How a consumer reports what happened: committed outcomes become metrics
 * and typed events (events.ts), once. The library's own outcome log lines
 * are a listener on those events (`logEvents`), attached unless the user
 * turns it off (ConsumerOptions.logEvents) to log the events themselves.
 */
import type { OutboxEvent } from "../handler.js";
import type { Logger } from "../logger.js";
import type { Outcome } from "./chunk/outcomes.js";
import type { TypedEmitter } from "./events.js";
import type { MetricsRecorder } from "./metrics.js";

/** The fields that name an event in events and log lines. */
export function refOf(
  e: Pick<OutboxEvent, "id" | "topic" | "attempt" | "idempotencyKey" | "tenant" | "headers">,
) {
  return {
    id: e.id,
    topic: e.topic,
    attempt: e.attempt,
    idempotencyKey: e.idempotencyKey,
    tenant: e.tenant,
    headers: e.headers,
  };
}

/**
 * Metrics and typed events for committed outcomes. Returns the earliest
 * retry delay among them (Infinity when none is a retry).
 */
export function reportOutcomes(
  outcomes: Outcome[],
  recorder: MetricsRecorder,
  emitter: TypedEmitter,
): number {
  let nextRetry = Number.POSITIVE_INFINITY;
  // The per-event 'handled' payload is built only when someone listens (the
  // hot path of a burn-down); the outcome log is a listener too.
  const describeHandled = emitter.has("handled");
  for (const out of outcomes) {
    const e = out.event;
    if (out.kind === "done") {
      recorder.count("handled", e.topic);
      for (const h of out.handlers) recorder.count("handled", e.topic, h, false);
      if (!describeHandled) continue;
      emitter.emit("handled", {
        ...refOf(e),
        handlers: out.handlers,
        skipped: out.skipped,
        durationMs: out.durationMs,
      });
      continue;
    }
    if (out.kind === "released") continue;
    const ref = refOf(e);
    for (const h of out.succeeded) recorder.count("handled", e.topic, h, false);
    recorder.count("failed", e.topic);
    for (const h of out.failedHandlers) recorder.count("failed", e.topic, h, false);
    emitter.emit("failed", { ...ref, handler: out.handler, error: out.error, retryInMs: out.retryInMs });
    if (out.kind === "dead") {
      recorder.count("dead", e.topic, out.handler ?? "(payload)");
      emitter.emit("dead", { ...ref, handler: out.handler, error: out.error });
    } else {
      nextRetry = Math.min(nextRetry, out.retryInMs ?? 0);
    }
  }
  return nextRetry;
}

/**
 * The library's outcome log: one line per handled, retried and dead event,
 * reap and state change, written from the typed events through `logger`.
 * Returns a function that detaches it.
 */
export function logEvents(
  emitter: TypedEmitter,
  logger: Logger,
  worker: { workerId: string; generation: number },
): () => void {
  const off = [
    emitter.on("handled", (e) => logger.debug({ ...refOf(e), handlers: e.handlers }, "event handled")),
    emitter.on("failed", (e) => {
      // A failure that went dead is logged by its 'dead' event.
      if (e.retryInMs === null) return;
      logger.info({ ...refOf(e), error: e.error, retryInMs: e.retryInMs }, "event failed; retrying");
    }),
    emitter.on("dead", (e) => logger.warn({ ...refOf(e), error: e.error }, "event dead")),
    emitter.on("reaped", (e) =>
      logger.warn(
        { count: e.count, dead: e.dead.length, fromWorkers: e.fromWorkers },
        "reaped stuck in-flight rows",
      ),
    ),
    emitter.on("state", (e) =>
      logger.info(
        { workerId: worker.workerId, generation: worker.generation, from: e.from, to: e.to },
        "consumer state",
      ),
    ),
  ];
  return () => {
    for (const f of off) f();
  };
}
