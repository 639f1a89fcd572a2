import type { Logger } from "@cutover/outbox";
import pino from "pino";
import type { LogLevel } from "./config.js";
import { redactText } from "./redact.js";

export interface Envelope {
  service: string;
  environment: string;
  generation?: number | undefined;
  worker_id?: string | undefined;
}

export interface WorkerLogger extends Logger {
  child(bindings: Record<string, unknown>): WorkerLogger;
  fatal(obj: Record<string, unknown>, msg?: string): void;
  flush(): void;
}

/** Where log lines go; every line passes redactText first. */
export interface LineSink {
  write(line: string): void;
}

const stdoutSink: LineSink = { write: (line) => process.stdout.write(line) };

/**
 * The worker's pino logger: JSON lines on stdout, every line carrying the
 * envelope (service, environment, generation, worker_id) and scrubbed of
 * secrets before it is written.
 */
export function createLogger(level: LogLevel, envelope: Envelope, sink: LineSink = stdoutSink): WorkerLogger {
  const base: Record<string, unknown> = { service: envelope.service, environment: envelope.environment };
  if (envelope.generation !== undefined) base.generation = envelope.generation;
  if (envelope.worker_id !== undefined) base.worker_id = envelope.worker_id;
  const stream = { write: (line: string) => sink.write(redactText(line)) };
  return pino(
    {
      level,
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      messageKey: "msg",
    },
    stream,
  ) as unknown as WorkerLogger;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The W3C trace id of a `traceparent` header, or null when absent or malformed. */
export function traceIdOf(headers: Record<string, string> | undefined): string | null {
  const tp = headers?.traceparent?.trim().toLowerCase();
  const m = tp ? TRACEPARENT.exec(tp) : null;
  if (!m || /^0+$/.test(m[1]!)) return null;
  return m[1]!;
}

/**
 * The tenant of an event: its `tenant` column (the publish option), else,
 * for events published before it existed, header tenant_id (or tenant-id,
 * x-tenant-id), else null.
 */
export function tenantIdOf(
  headers: Record<string, string> | undefined,
  tenant?: string | null,
): string | null {
  if (tenant) return tenant;
  if (!headers) return null;
  return headers.tenant_id ?? headers["tenant-id"] ?? headers["x-tenant-id"] ?? null;
}

/** The per-event part of the envelope. */
export function eventFields(e: {
  id: string;
  topic: string;
  attempt: number;
  tenant?: string | null;
  headers: Record<string, string>;
}) {
  return {
    trace_id: traceIdOf(e.headers),
    tenant_id: tenantIdOf(e.headers, e.tenant),
    event_type: e.topic,
    event_id: e.id,
    attempt: e.attempt,
  };
}

/**
 * The logger handed to the library. The worker logs outcomes itself from the
 * consumer's typed events (assemble.ts passes `logEvents: false`), so the
 * library writes none of its own. Its child() (what a handler's ctx.logger is
 * built with) also writes the envelope's names for the library's fields, so
 * handler lines join the worker's event lines: `event_type` for topic and
 * `tenant_id` for tenant.
 */
export function libraryLogger(logger: WorkerLogger): Logger & { child(b: Record<string, unknown>): Logger } {
  const pass = (level: "debug" | "info" | "warn" | "error") => (obj: Record<string, unknown>, msg?: string) =>
    logger[level](obj, msg);
  return {
    debug: pass("debug"),
    info: pass("info"),
    warn: pass("warn"),
    error: pass("error"),
    child(bindings) {
      // `generation` is in the envelope already (a worker only runs its own
      // generation's events): binding it again would write the key twice.
      const { generation: _, ...rest } = bindings;
      const aliases: Record<string, unknown> = {};
      if (rest.topic !== undefined) aliases.event_type = rest.topic;
      if (rest.tenant !== undefined) aliases.tenant_id = rest.tenant;
      return logger.child({ ...rest, ...aliases });
    },
  };
}
