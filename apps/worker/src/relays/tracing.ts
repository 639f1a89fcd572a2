/**
 * A relay's span, when `@opentelemetry/api` is installed (an optional peer
 * dependency, loaded once; without it this is a no-op and relays forward the
 * trace context the publisher stored, unchanged).
 *
 * The relay runs inside the consumer's `process <topic>` span, so its span
 * is a child of it: PRODUCER `publish <destination>` for a broker (messaging
 * semconv: messaging.system nats / redis / rabbitmq), CLIENT `POST` for the
 * webhook. Its W3C context replaces the stored `traceparent`/`tracestate` in
 * what the relay sends, so whoever consumes the broker message continues
 * the same trace below the relay.
 */
import { createRequire } from "node:module";
import type * as OtelApi from "@opentelemetry/api";
import type { RelayConfig } from "./config.js";
import { fillTopic } from "./envelope.js";
import type { OutboxEvent } from "./types.js";

type Api = typeof OtelApi;
let loaded: Api | null | undefined;

function otelApi(): Api | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)("@opentelemetry/api") as Api;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

interface SpanShape {
  name: string;
  kind: "producer" | "client";
  attributes: Record<string, string | number>;
}

/** Name, kind and attributes of the span relaying `event` with `config`. Never includes credentials. */
export function relaySpanShape(config: RelayConfig, event: OutboxEvent): SpanShape {
  const common = { "cutover.relay": config.name, "messaging.message.id": event.id };
  switch (config.kind) {
    case "nats": {
      const subject = `${config.subjectPrefix}${event.topic}`;
      return {
        name: `publish ${subject}`,
        kind: "producer",
        attributes: {
          ...common,
          "messaging.system": "nats",
          "messaging.operation.type": "publish",
          "messaging.destination.name": subject,
        },
      };
    }
    case "redis": {
      const stream = fillTopic(config.stream, event.topic);
      return {
        name: `publish ${stream}`,
        kind: "producer",
        attributes: {
          ...common,
          "messaging.system": "redis",
          "messaging.operation.type": "publish",
          "messaging.destination.name": stream,
        },
      };
    }
    case "rabbitmq": {
      const routingKey = fillTopic(config.routingKey, event.topic);
      return {
        name: `publish ${config.exchange === "" ? "amq.default" : config.exchange}`,
        kind: "producer",
        attributes: {
          ...common,
          "messaging.system": "rabbitmq",
          "messaging.operation.type": "publish",
          "messaging.destination.name": config.exchange,
          "messaging.rabbitmq.destination.routing_key": routingKey,
        },
      };
    }
    case "webhook": {
      // Host and port only: a webhook URL's path or query may carry a token.
      const u = new URL(config.url);
      return {
        name: "POST",
        kind: "client",
        attributes: {
          ...common,
          "http.request.method": "POST",
          "server.address": u.hostname,
          "server.port": Number(u.port || (u.protocol === "https:" ? 443 : 80)),
        },
      };
    }
  }
}

/**
 * Runs `deliver` inside the relay's span, handing it the event with its
 * headers' trace context replaced by the span's own; ends the span with the
 * outcome.
 */
export async function traceRelay(
  config: RelayConfig,
  event: OutboxEvent,
  deliver: (event: OutboxEvent) => Promise<void>,
): Promise<void> {
  const api = otelApi();
  if (!api) return deliver(event);
  const shape = relaySpanShape(config, event);
  const span = api.trace.getTracer("@cutover/worker").startSpan(shape.name, {
    kind: shape.kind === "client" ? api.SpanKind.CLIENT : api.SpanKind.PRODUCER,
    attributes: shape.attributes,
  });
  const active = api.trace.setSpan(api.context.active(), span);
  const carrier: Record<string, string> = {};
  api.propagation.inject(active, carrier);
  const forwarded =
    Object.keys(carrier).length > 0 ? { ...event, headers: { ...event.headers, ...carrier } } : event;
  try {
    await api.context.with(active, () => deliver(forwarded));
  } catch (err) {
    span.setStatus({
      code: api.SpanStatusCode.ERROR,
      message: err instanceof Error ? err.message : String(err),
    });
    throw err;
  } finally {
    span.end();
  }
}
