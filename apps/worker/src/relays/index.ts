/**
 * Built-in relays: forward committed events to a webhook or a broker with no
 * user code. Each relay is a consumer handler (same retries, dead letter,
 * fencing, metrics, ordering keys), selected by `OUTBOX_RELAYS`.
 * See docs/relays/README.md.
 */
import type { RelayConfig, RelaysConfig } from "./config.js";
import { createNatsRelay } from "./nats.js";
import { createRabbitmqRelay } from "./rabbitmq.js";
import { createRedisRelay } from "./redis.js";
import type { Relay, RelayDeps } from "./relay.js";
import { createWebhookRelay } from "./webhook.js";

export {
  loadRelaysConfig,
  type NatsRelayConfig,
  parseRelaysConfig,
  type RabbitmqRelayConfig,
  RELAY_DEFAULTS,
  RELAYS_ENV,
  type RedisRelayConfig,
  type RelayConfig,
  type RelayConfigInput,
  type RelayKind,
  type RelaysConfig,
  relaysConfigSchema,
  type WebhookRelayConfig,
} from "./config.js";
export { type EventEnvelope, eventEnvelope } from "./envelope.js";
export { RelayError, type RelayErrorCode } from "./errors.js";
export type { RelayHealthStatus } from "./health.js";
export type { Relay, RelayDeps } from "./relay.js";
export { isValidTopicFilter, matchTopic, topicMatcher } from "./topic-filter.js";
export { type HandlerContext, type HandlerDefinition, type OutboxEvent, PermanentError } from "./types.js";
export {
  DEFAULT_SIGNATURE_TOLERANCE_SEC,
  signWebhookPayload,
  type VerifyWebhookSignatureOptions,
  verifyWebhookSignature,
  WEBHOOK_HEADERS,
} from "./verify.js";

function createRelay(config: RelayConfig, deps: RelayDeps): Relay {
  switch (config.kind) {
    case "webhook":
      return createWebhookRelay(config, deps);
    case "nats":
      return createNatsRelay(config, deps);
    case "redis":
      return createRedisRelay(config, deps);
    case "rabbitmq":
      return createRabbitmqRelay(config, deps);
  }
}

/**
 * One Relay per config entry (from {@link loadRelaysConfig}). Nothing connects
 * here: each relay opens its connection on first use and reopens it with
 * backoff after a loss, so a broker that is down at boot degrades the relay
 * instead of failing the worker. Register `relay.handler` with the consumer,
 * report `relay.health()` under /health `relays`, and `await relay.close()` on
 * shutdown after the consumer stopped.
 */
export function createRelays(config: RelaysConfig, deps: RelayDeps): Relay[] {
  return config.map((c) => createRelay(c, deps));
}
