import type pg from "pg";
import { CutoverError } from "./errors.js";
import {
  ALL_TOPICS_PATTERN,
  type EventCatalog,
  type EventSchemas,
  isTopicPattern,
  isValidTopicSubscription,
  type PayloadOut,
  topicMatches,
} from "./events.js";
import type { Logger } from "./logger.js";

/** One outbox row as a handler sees it. */
export interface OutboxEvent<P = unknown> {
  /** The outbox row id (bigint, as a decimal string). */
  id: string;
  topic: string;
  payload: P;
  headers: Record<string, string>;
  /** Unique per topic; dedupe external effects on it. */
  idempotencyKey: string;
  orderingKey: string | null;
  /** The publisher's `tenant` option; null when it gave none. */
  tenant: string | null;
  generation: number;
  /** 1 on the first try; counts claims, including ones a crash interrupted. */
  attempt: number;
  createdAt: Date;
}

export interface HandlerContext {
  /**
   * The handler's transaction. Its writes commit together with the handler's
   * `event_handled` row, so they take effect exactly once; if the handler
   * throws they are rolled back (to a savepoint, taken lazily before its
   * first statement). Never COMMIT or ROLLBACK it. It is closed when the run
   * ends (settled, timed out or aborted): later statements reject with
   * HANDLER_TX_CLOSED.
   */
  tx: pg.PoolClient;
  /** Aborted on handler timeout, lease loss or forced shutdown. */
  signal: AbortSignal;
  workerId: string;
  /**
   * The consumer's logger, bound to this run: every line carries `event_id`,
   * `topic`, `generation`, `handler`, `attempt`, `trace_id` and `span_id`
   * when the event has a trace (the handler's `process` span; without
   * OpenTelemetry, the publisher's span from the `traceparent` header), and
   * `tenant` when the event has one. Built with the logger's own `child()`
   * when it has one (pino).
   */
  logger: Logger;
}

export interface HandlerDefinition<P = unknown> {
  /**
   * Scope-qualified, unique per consumer: `billing.charge-card`. It is the
   * `event_handled` key, so renaming a handler makes it run again for events
   * not yet pruned.
   */
  name: string;
  /**
   * Topics it handles: exact names, patterns like `order.*` (every topic that
   * starts with `order.`; the separator before `*` is `.`, `:` or `/`), or
   * `"*"` for every topic. The consumer claims only topics some handler
   * subscribes to, and runs a handler only for the topics it matches.
   */
  topics: readonly string[];
  /**
   * Handles one event. Throw to fail (retried with backoff up to maxAttempts,
   * then dead); throw {@link PermanentError} to go dead at once.
   */
  handle(event: OutboxEvent<P>, ctx: HandlerContext): Promise<void>;
  /** Per-try time limit; overrides the consumer's handlerTimeoutMs. */
  timeoutMs?: number;
  /** Overrides the consumer's maxAttempts for events this handler fails. */
  maxAttempts?: number;
  /**
   * How many of this handler's runs one chunk may have in flight at once
   * (integer 1..1024, default 1: one after another). Above 1 the handler
   * declares that it writes nothing through `ctx.tx` (its `ctx.tx` refuses
   * every statement with HANDLER_TX_CLOSED) and that its runs may overlap:
   * a chunk whose events reach only such handlers runs up to the smallest
   * limit among them at once, an ordering key's events still one after
   * another. For relays and HTTP calls, whose time is a round trip.
   */
  maxInFlight?: number;
}

/** The largest {@link HandlerDefinition.maxInFlight}. */
export const MAX_IN_FLIGHT = 1024;

/** What a consumer needs of an {@link EventCatalog}: any `defineEvents(...)` result fits. */
export interface CatalogLike {
  has(topic: string): boolean;
  parse(topic: string, payload: unknown): unknown;
}

const PERMANENT = Symbol.for("cutover.PermanentError");

/**
 * Thrown by a handler when retrying cannot help (a 4xx from a webhook, a
 * payload the handler rejects): the event goes `dead` at once.
 */
export class PermanentError extends Error {
  readonly [PERMANENT] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentError";
  }
}

/** True for a PermanentError, also one from another copy of this package. */
export function isPermanentError(err: unknown): err is PermanentError {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[PERMANENT] === true;
}

const HANDLER_NAME = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$/;

/** The wildcard topic: a handler subscribed to it sees every topic of its generation. */
export const ALL_TOPICS = ALL_TOPICS_PATTERN;

/** What a typed handler may subscribe to: a catalog topic, a pattern like `order.*`, or `*`. */
export type TopicSubscription<S extends EventSchemas> =
  | (keyof S & string)
  | `${string}.*`
  | `${string}:*`
  | `${string}/*`
  | "*";

/** The catalog topics a subscription selects (a pattern: the topics that start with its prefix). */
export type MatchedTopics<S extends EventSchemas, X extends string> = X extends "*"
  ? keyof S & string
  : X extends `${infer Prefix}*`
    ? Extract<keyof S & string, `${Prefix}${string}`>
    : Extract<X, keyof S & string>;

/**
 * Declares a handler typed from an event catalog: `event.payload` is the
 * schema's output type for the subscribed topics (for a pattern, the union of
 * the catalog topics it matches). Topics are checked against the catalog
 * here: an exact topic must be declared, a pattern must match a declared topic.
 */
export function defineHandler<S extends EventSchemas, const X extends TopicSubscription<S>>(
  events: EventCatalog<S>,
  def: {
    name: string;
    topics: readonly X[];
    handle(event: OutboxEvent<PayloadOut<S, MatchedTopics<S, X>>>, ctx: HandlerContext): Promise<void>;
    timeoutMs?: number;
    maxAttempts?: number;
    maxInFlight?: number;
  },
): HandlerDefinition {
  validateHandler(def as unknown as HandlerDefinition);
  for (const t of def.topics) {
    if (t === ALL_TOPICS) continue;
    if (isTopicPattern(t)) {
      if (!events.topics.some((declared) => topicMatches(t, declared))) {
        throw new CutoverError(
          "HANDLER_INVALID",
          `handler "${def.name}" subscribes to pattern ${JSON.stringify(t).slice(0, 80)}, which matches no declared topic`,
          { details: { handler: def.name, topic: t } },
        );
      }
    } else if (!events.has(t)) {
      throw new CutoverError(
        "HANDLER_INVALID",
        `handler "${def.name}" subscribes to undeclared topic ${JSON.stringify(t).slice(0, 80)}`,
        { details: { handler: def.name, topic: t } },
      );
    }
  }
  return def as unknown as HandlerDefinition;
}

function positiveInt(value: unknown, what: string, name: string): void {
  if (value !== undefined && (!Number.isInteger(value) || (value as number) < 1)) {
    throw new CutoverError("HANDLER_INVALID", `handler "${name}": ${what} must be a positive integer`, {
      details: { handler: name, option: what },
    });
  }
}

/** Throws HANDLER_INVALID naming the handler and the problem. */
export function validateHandler(def: HandlerDefinition): void {
  const name = (def as { name?: unknown } | null)?.name;
  if (typeof name !== "string" || !HANDLER_NAME.test(name) || name.length > 200) {
    throw new CutoverError(
      "HANDLER_INVALID",
      `handler names are scope-qualified (scope.name, lower-case: ${HANDLER_NAME.source}, e.g. "billing.charge-card"); got ${JSON.stringify(String(name)).slice(0, 80)}`,
      { details: { handler: name } },
    );
  }
  if (
    !Array.isArray(def.topics) ||
    def.topics.length === 0 ||
    def.topics.some((t) => typeof t !== "string")
  ) {
    throw new CutoverError(
      "HANDLER_INVALID",
      `handler "${name}": topics must be a non-empty array of strings`,
      {
        details: { handler: name },
      },
    );
  }
  const bad = def.topics.find((t) => !isValidTopicSubscription(t));
  if (bad !== undefined) {
    throw new CutoverError(
      "HANDLER_INVALID",
      `handler "${name}": topic ${JSON.stringify(bad).slice(0, 80)} is neither a topic name, "*", nor a pattern (a topic prefix ending in ".", ":" or "/" followed by "*", e.g. "order.*")`,
      { details: { handler: name, topic: bad } },
    );
  }
  if (typeof def.handle !== "function") {
    throw new CutoverError("HANDLER_INVALID", `handler "${name}": handle must be a function`, {
      details: { handler: name },
    });
  }
  positiveInt(def.timeoutMs, "timeoutMs", name);
  positiveInt(def.maxAttempts, "maxAttempts", name);
  const inFlight = def.maxInFlight;
  if (
    inFlight !== undefined &&
    (!Number.isInteger(inFlight) || (inFlight as number) < 1 || (inFlight as number) > MAX_IN_FLIGHT)
  ) {
    throw new CutoverError(
      "HANDLER_INVALID",
      `handler "${name}": maxInFlight must be an integer from 1 to ${MAX_IN_FLIGHT}; got ${typeof inFlight === "number" ? inFlight : JSON.stringify(inFlight)?.slice(0, 40)}`,
      { details: { handler: name, option: "maxInFlight" } },
    );
  }
}

/** Validates a handler set: each handler, and no name twice. */
export function validateHandlers(
  handlers: readonly HandlerDefinition[],
  events?: CatalogLike,
): readonly HandlerDefinition[] {
  if (!Array.isArray(handlers) || handlers.length === 0) {
    throw new CutoverError("CONFIG_INVALID", "handlers must be a non-empty array of handler definitions", {
      details: { option: "handlers" },
    });
  }
  const seen = new Set<string>();
  for (const h of handlers) {
    validateHandler(h);
    if (seen.has(h.name)) {
      throw new CutoverError(
        "HANDLER_DUPLICATE",
        `two handlers are named "${h.name}"; names must be unique`,
        {
          details: { handler: h.name },
        },
      );
    }
    seen.add(h.name);
    if (events) {
      for (const t of h.topics) {
        if (t !== ALL_TOPICS && !isTopicPattern(t) && !events.has(t)) {
          throw new CutoverError(
            "HANDLER_INVALID",
            `handler "${h.name}" subscribes to topic "${t}", which the events catalog does not declare`,
            { details: { handler: h.name, topic: t } },
          );
        }
      }
    }
  }
  return handlers;
}
