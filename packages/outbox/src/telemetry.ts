/**
 * OpenTelemetry tracing, optional: `@opentelemetry/api` is an optional peer
 * dependency, loaded on first use. When it is not installed every function
 * here is a no-op; when it is installed but no SDK is registered, the API's
 * own no-op tracer and propagator make it one too. Spans follow the
 * OpenTelemetry semantic conventions for messaging (v1.26: operation types
 * `publish` and `process`), with `messaging.system = "cutover"`.
 *
 * Trace shape: `publish <topic>` (PRODUCER) injects its context into the
 * event's headers (W3C `traceparent` / `tracestate`); each handler run is a
 * `process <topic>` span (CONSUMER) whose parent is that context and which
 * also links to it, as the conventions recommend for a single-message
 * process span: one trace from the publishing request through the handler,
 * and the link still names the producer when a tool drops the parent.
 */
import { createRequire } from "node:module";
import type * as OtelApi from "@opentelemetry/api";

type Api = typeof OtelApi;

let loaded: Api | null | undefined;

/**
 * The `@opentelemetry/api` module, or undefined when it cannot be loaded
 * (not installed). Resolved once, synchronously, from this package's
 * location, so it is the application's copy (a peer dependency).
 */
export function otelApi(): Api | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)("@opentelemetry/api") as Api;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

const TRACER = "@cutover/outbox";
const SYSTEM = "cutover";

/** What a publish call reports to its span once the statement answered. */
export interface PublishSpan {
  /** The trace context to store in each event's headers; empty when no trace is active. */
  readonly carrier: Readonly<Record<string, string>>;
  end(result: { ids: Array<string | undefined> } | { error: unknown }): void;
}

const NO_PUBLISH_SPAN: PublishSpan = { carrier: {}, end() {} };

/**
 * Starts the PRODUCER span of one publish/publishBatch call, as a child of
 * the active context, and injects it into `carrier`. A batch whose events
 * share a topic is `publish <topic>`; a mixed batch is `publish`.
 */
export function startPublishSpan(opts: {
  topics: readonly string[];
  batch: boolean;
  generation: number;
  tenant: string | undefined;
}): PublishSpan {
  const api = otelApi();
  if (!api) return NO_PUBLISH_SPAN;
  const first = opts.topics[0];
  const oneTopic = first !== undefined && opts.topics.every((t) => t === first);
  const attributes: OtelApi.Attributes = {
    "messaging.system": SYSTEM,
    "messaging.operation.type": "publish",
    "messaging.operation.name": "publish",
    "cutover.generation": opts.generation,
  };
  if (oneTopic) attributes["messaging.destination.name"] = first;
  if (opts.batch) attributes["messaging.batch.message_count"] = opts.topics.length;
  if (opts.tenant !== undefined) attributes["cutover.tenant"] = opts.tenant;
  const span = api.trace
    .getTracer(TRACER)
    .startSpan(oneTopic ? `publish ${first}` : "publish", { kind: api.SpanKind.PRODUCER, attributes });
  const carrier: Record<string, string> = {};
  api.propagation.inject(api.trace.setSpan(api.context.active(), span), carrier);
  return {
    carrier,
    end(result) {
      if ("error" in result) {
        recordError(api, span, result.error);
      } else if (!opts.batch) {
        const id = result.ids[0];
        if (id === undefined) span.setAttribute("cutover.duplicate", true);
        else span.setAttribute("messaging.message.id", id);
      }
      span.end();
    },
  };
}

/** A handler run's CONSUMER span; `run` calls the handler with it active. */
export interface ProcessSpan {
  /** The ids of the span the handler runs in, or of the publisher's span when tracing is off; null without a trace. */
  readonly ids: { trace_id: string; span_id: string } | null;
  run<T>(fn: () => T): T;
  end(error?: string): void;
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** The trace and span id of a W3C `traceparent` header, or null when absent, malformed or all zeros. */
export function parseTraceparent(value: string | undefined): { trace_id: string; span_id: string } | null {
  const m = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return null;
  return { trace_id: m[1]!, span_id: m[2]! };
}

/** The span of a run with nothing to trace and no trace context in its event's headers: shared, no allocation. */
const NO_PROCESS_SPAN: ProcessSpan = { ids: null, run: (fn) => fn(), end() {} };

/** The span of a run when nothing traces: its ids are the publisher's, read from the event's headers. */
function untracedProcessSpan(headers: Record<string, string>): ProcessSpan {
  const ids = parseTraceparent(headers.traceparent);
  return ids === null ? NO_PROCESS_SPAN : { ids, run: NO_PROCESS_SPAN.run, end: NO_PROCESS_SPAN.end };
}

let noopProvider: unknown;
const probeKey = Symbol("cutover.probe");
let probeContext: OtelApi.Context | undefined;
let probeApi: Api | undefined;
const probeActive = (): boolean => probeApi!.context.active() === probeContext;

/**
 * Whether the installed API has nothing registered that a process span
 * could reach: no tracer provider (the global proxy still delegates to the
 * API's no-op provider), no propagator (no header fields), no context
 * manager (a context set with `with` is not active inside it). Then a
 * process span would be a non-recording span with an invalid context, run
 * in a context nobody can read: exactly what the no-API path returns,
 * without its per-event spans, contexts, attribute objects and closures.
 * Checked on every call (a few property reads), so an SDK registered later
 * is picked up at the next handler run.
 */
function nothingRegistered(api: Api): boolean {
  const provider = api.trace.getTracerProvider() as { getDelegate?: () => unknown };
  if (typeof provider.getDelegate !== "function" || typeof api.ProxyTracerProvider !== "function")
    return false;
  noopProvider ??= new api.ProxyTracerProvider().getDelegate();
  if (provider.getDelegate() !== noopProvider) return false;
  if (api.propagation.fields().length > 0) return false;
  if (probeApi !== api) {
    probeApi = api;
    probeContext = api.ROOT_CONTEXT.setValue(probeKey, true);
  }
  return !api.context.with(probeContext!, probeActive);
}

/**
 * Starts the CONSUMER span `process <topic>` of one handler run: its parent
 * is the trace context the publisher stored in the event's headers, and it
 * links to that context. An event without one starts a new trace: whatever
 * context was active where the consumer was started has nothing to do with
 * this event.
 */
export function startProcessSpan(
  event: {
    id: string;
    topic: string;
    generation: number;
    attempt: number;
    tenant: string | null;
    headers: Record<string, string>;
  },
  handler: string,
): ProcessSpan {
  const api = otelApi();
  if (!api || nothingRegistered(api)) return untracedProcessSpan(event.headers);
  const parent = api.propagation.extract(api.ROOT_CONTEXT, event.headers);
  const producer = api.trace.getSpanContext(parent);
  const attributes: OtelApi.Attributes = {
    "messaging.system": SYSTEM,
    "messaging.operation.type": "process",
    "messaging.operation.name": "process",
    "messaging.destination.name": event.topic,
    "messaging.message.id": event.id,
    "messaging.consumer.group.name": handler,
    "cutover.generation": event.generation,
    "cutover.attempt": event.attempt,
  };
  if (event.tenant !== null) attributes["cutover.tenant"] = event.tenant;
  const valid = producer !== undefined && api.trace.isSpanContextValid(producer);
  const span = api.trace.getTracer(TRACER).startSpan(
    `process ${event.topic}`,
    {
      kind: api.SpanKind.CONSUMER,
      attributes,
      ...(valid ? { links: [{ context: producer }] } : {}),
    },
    valid ? parent : api.ROOT_CONTEXT,
  );
  const sc = span.spanContext();
  const ids = api.trace.isSpanContextValid(sc)
    ? { trace_id: sc.traceId, span_id: sc.spanId }
    : parseTraceparent(event.headers.traceparent);
  const active = api.trace.setSpan(valid ? parent : api.ROOT_CONTEXT, span);
  return {
    ids,
    run: (fn) => api.context.with(active, fn),
    end(error) {
      if (error !== undefined) span.setStatus({ code: api.SpanStatusCode.ERROR, message: error });
      span.end();
    },
  };
}

function recordError(api: Api, span: OtelApi.Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: api.SpanStatusCode.ERROR, message });
}
