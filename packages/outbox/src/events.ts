import type { z } from "zod";
import { CutoverError, PayloadValidationError } from "./errors.js";

/** Topic -> zod schema of its payload. */
export type EventSchemas = Record<string, z.ZodType>;

/** What a publisher accepts for a topic (the schema's input type). */
export type PayloadIn<S extends EventSchemas, T extends keyof S> = z.input<S[T]>;
/** What a handler receives for a topic (the schema's output type). */
export type PayloadOut<S extends EventSchemas, T extends keyof S> = z.output<S[T]>;

export interface EventCatalog<S extends EventSchemas = EventSchemas> {
  readonly schemas: S;
  readonly topics: ReadonlyArray<keyof S & string>;
  /** Validates (and applies zod transforms to) a payload; throws PayloadValidationError or TOPIC_UNKNOWN. */
  parse<T extends keyof S & string>(topic: T, payload: unknown, index?: number): PayloadOut<S, T>;
  has(topic: string): topic is keyof S & string;
}

const TOPIC = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;

export function validateTopicName(topic: unknown): string {
  if (typeof topic !== "string" || !TOPIC.test(topic)) {
    throw new CutoverError(
      "TOPIC_INVALID",
      `topic names must match ${TOPIC.source} (letters, digits and . _ : / -); got ${JSON.stringify(String(topic)).slice(0, 80)}`,
    );
  }
  return topic;
}

/**
 * A topic pattern: a topic prefix that ends in a separator (`.`, `:` or `/`)
 * followed by `*`, e.g. `order.*`. It matches every topic that starts with the
 * prefix, at any depth (`order.placed`, `order.line.added`), never `order`
 * itself. `*` alone is {@link ALL_TOPICS_PATTERN}: every topic.
 */
export const TOPIC_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,197}[.:/]\*$/;

/** The subscription that matches every topic. */
export const ALL_TOPICS_PATTERN = "*";

/** True for a prefix pattern like `order.*` (not for `*` or an exact topic). */
export function isTopicPattern(subscription: string): boolean {
  return subscription !== ALL_TOPICS_PATTERN && subscription.endsWith("*");
}

/** True for `*`, a valid exact topic name or a valid pattern like `order.*`. */
export function isValidTopicSubscription(subscription: unknown): subscription is string {
  return (
    typeof subscription === "string" &&
    (subscription === ALL_TOPICS_PATTERN || TOPIC.test(subscription) || TOPIC_PATTERN.test(subscription))
  );
}

/** True when `topic` is selected by `subscription` (`*`, a pattern like `order.*`, or an exact name). */
export function topicMatches(subscription: string, topic: string): boolean {
  if (subscription === ALL_TOPICS_PATTERN) return true;
  if (isTopicPattern(subscription)) return topic.startsWith(subscription.slice(0, -1));
  return subscription === topic;
}

/** Escapes `\\`, `%` and `_` so LIKE matches `text` literally (the default escape character `\\`). */
export function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}

/**
 * The LIKE pattern selecting the topics of a subscription: `%` for `*`, the
 * escaped prefix then `%` for a pattern, the escaped name for an exact topic.
 */
export function likePatternFor(subscription: string): string {
  if (subscription === ALL_TOPICS_PATTERN) return "%";
  if (isTopicPattern(subscription)) return `${likeEscape(subscription.slice(0, -1))}%`;
  return likeEscape(subscription);
}

/**
 * Declares the events of a service once: each topic with the zod schema of its
 * payload. Publishers validate against it before writing; handlers are typed
 * from it.
 *
 * @example
 * const events = defineEvents({ "order.placed": z.object({ orderId: z.string() }) });
 */
export function defineEvents<const S extends EventSchemas>(schemas: S): EventCatalog<S> {
  const topics = Object.keys(schemas) as Array<keyof S & string>;
  for (const t of topics) {
    validateTopicName(t);
    const s = schemas[t] as { safeParse?: unknown } | undefined;
    if (typeof s?.safeParse !== "function") {
      throw new CutoverError("CONFIG_INVALID", `event "${t}" needs a zod schema`);
    }
  }
  const has = (topic: string): topic is keyof S & string => Object.hasOwn(schemas, topic);
  return {
    schemas,
    topics,
    has,
    parse(topic, payload, index) {
      if (!has(topic)) {
        throw new CutoverError(
          "TOPIC_UNKNOWN",
          `${typeof topic === "string" ? `unknown topic ${JSON.stringify(topic).slice(0, 80)}` : `topic must be a string; got ${topic === null ? "null" : typeof topic}`}${index === undefined ? "" : ` (batch item ${index})`}; declared topics: ${topics.join(", ")}`,
          { details: { topic, index } },
        );
      }
      const result = (schemas[topic] as z.ZodType).safeParse(payload);
      if (!result.success) throw new PayloadValidationError(topic, result.error.issues, index);
      return result.data as PayloadOut<S, typeof topic>;
    },
  };
}
