import type { Logger } from "@cutover/outbox";
import type { RelayConfig, RelayKind } from "./config.js";
import { RelayError } from "./errors.js";
import type { RelayHealthState, RelayHealthStatus } from "./health.js";
import { traceRelay } from "./tracing.js";
import type { HandlerContext, HandlerDefinition, OutboxEvent } from "./types.js";

/**
 * A built-in relay: a handler the consumer runs like any other (retries, dead
 * letter, fencing, metrics, ordering keys), plus its health and a close().
 * Its handler sets maxInFlight (config, default per kind): up to that many of
 * a chunk's sends await their acknowledgement at once on the relay's one
 * connection, so a chunk costs about one broker round trip, not one per event.
 */
export interface Relay {
  /** The scope-qualified handler name (e.g. "relay.billing-webhook"). */
  name: string;
  kind: RelayKind;
  handler: HandlerDefinition;
  /** Never throws; `degraded` while the broker/receiver is unreachable. */
  health(): RelayHealthStatus;
  /** Idempotent: closes connections; afterwards handle() throws RELAY_CLOSED (retryable). */
  close(): Promise<void>;
}

export interface RelayDeps {
  logger: Logger;
}

/** Builds the Relay around one kind's deliver(): subscribes with its topic filters, closed check, timeouts passed through. */
export function assembleRelay(
  config: RelayConfig,
  health: RelayHealthState,
  deliver: (event: OutboxEvent, ctx: HandlerContext) => Promise<void>,
  closeConnections: () => Promise<void>,
): Relay {
  let closing: Promise<void> | undefined;
  // The consumer claims only the topics the filters match and runs this
  // handler only for those, so every event here matches a filter.
  const handler: HandlerDefinition = {
    name: config.name,
    topics: config.topics,
    async handle(event, ctx) {
      if (health.isClosed) throw new RelayError("RELAY_CLOSED", config.name, "closed");
      // In its own span (tracing.ts), whose trace context replaces the stored one in what is sent.
      await traceRelay(config, event, (traced) => deliver(traced, ctx));
    },
    ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    ...(config.maxAttempts === undefined ? {} : { maxAttempts: config.maxAttempts }),
    // Sends overlap (none writes through ctx.tx); an ordering key's events still go one at a time.
    maxInFlight: config.maxInFlight,
  };
  return {
    name: config.name,
    kind: config.kind,
    handler,
    health: () => health.snapshot(),
    close() {
      health.markClosed();
      closing ??= closeConnections();
      return closing;
    },
  };
}

/** Rejects with the signal's reason when it aborts first; cleans up its listener either way. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** Rejects with RELAY_TIMEOUT after `ms`; the timer is cleared when `promise` settles. */
export function withTimeout<T>(promise: Promise<T>, ms: number, relay: string, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RelayError("RELAY_TIMEOUT", relay, `${what}: no answer within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
