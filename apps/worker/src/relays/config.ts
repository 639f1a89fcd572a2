import { readFileSync } from "node:fs";
import { CutoverError } from "@cutover/outbox";
import { MAX_IN_FLIGHT } from "@cutover/outbox/internal";
import { z } from "zod";
import { isValidTopicFilter } from "./topic-filter.js";

/** Every relay default, in one place (documented in docs/relays/README.md). */
export const RELAY_DEFAULTS = {
  webhook: { requestTimeoutMs: 10_000, maxInFlight: 16 },
  nats: { subjectPrefix: "", ackTimeoutMs: 5_000, duplicateWindowMs: 120_000, maxInFlight: 64 },
  redis: {
    dedupeWindowMs: 86_400_000,
    dedupePrefix: "cutover:relay-dedupe:",
    commandTimeoutMs: 5_000,
    maxInFlight: 64,
  },
  rabbitmq: {
    exchange: "",
    routingKey: "{topic}",
    mandatory: true,
    confirmTimeoutMs: 5_000,
    maxInFlight: 64,
  },
  reconnect: { initialMs: 100, maxMs: 5_000 },
} as const;

/** The environment variable read by {@link loadRelaysConfig}. */
export const RELAYS_ENV = "OUTBOX_RELAYS";

const HANDLER_NAME = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const envRef = z.string().regex(ENV_NAME, "must be an environment variable name");
const positiveMs = z.number().int().positive();

const common = {
  /** Scope-qualified handler name, e.g. "relay.billing-webhook"; the event_handled key. */
  name: z.string().regex(HANDLER_NAME, 'must be a scope-qualified handler name like "relay.billing-webhook"'),
  /** Topic filters: "*", patterns like "order.*" (prefix ending in . : or / then *) or exact topic names. */
  topics: z
    .array(
      z
        .string()
        .refine(
          isValidTopicFilter,
          'must be "*", an exact topic or a prefix filter like "order.*" (a topic prefix ending in ".", ":" or "/", then "*")',
        ),
    )
    .min(1, "needs at least one topic filter"),
  /** Handler timeout passed to the consumer (library default when absent). */
  timeoutMs: positiveMs.optional(),
  /** Attempts before dead, passed to the consumer (library default when absent). */
  maxAttempts: z.number().int().min(1).optional(),
};

/**
 * The handler's maxInFlight: how many sends one chunk has awaiting their
 * acknowledgement at once (an ordering key's events still one at a time).
 */
const maxInFlight = (byDefault: number) => z.number().int().min(1).max(MAX_IN_FLIGHT).default(byDefault);

const httpUrl = z
  .string()
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), "must be an http(s) URL");

const webhookSchema = z
  .strictObject({
    kind: z.literal("webhook"),
    ...common,
    url: httpUrl,
    /** Shared HMAC secret inline; prefer secretEnv. */
    secret: z.string().min(16, "must be at least 16 characters").optional(),
    /** Name of the environment variable holding the shared HMAC secret. */
    secretEnv: envRef.optional(),
    /** Extra static request headers. */
    headers: z.record(z.string(), z.string()).optional(),
    requestTimeoutMs: positiveMs.default(RELAY_DEFAULTS.webhook.requestTimeoutMs),
    maxInFlight: maxInFlight(RELAY_DEFAULTS.webhook.maxInFlight),
  })
  .refine((c) => (c.secret === undefined) !== (c.secretEnv === undefined), {
    message: "needs exactly one of secret or secretEnv",
    path: ["secretEnv"],
  });

const natsSchema = z
  .strictObject({
    kind: z.literal("nats"),
    ...common,
    servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** Subject = subjectPrefix + topic, e.g. "events." + "order.placed". */
    subjectPrefix: z.string().default(RELAY_DEFAULTS.nats.subjectPrefix),
    user: z.string().optional(),
    passwordEnv: envRef.optional(),
    tokenEnv: envRef.optional(),
    ackTimeoutMs: positiveMs.default(RELAY_DEFAULTS.nats.ackTimeoutMs),
    maxInFlight: maxInFlight(RELAY_DEFAULTS.nats.maxInFlight),
    /** Create the stream on first connect when it does not exist. */
    ensureStream: z
      .strictObject({
        name: z.string().regex(/^[A-Za-z0-9_-]+$/, "must be a JetStream stream name"),
        /** Defaults to [subjectPrefix + ">"]. */
        subjects: z.array(z.string().min(1)).min(1).optional(),
        duplicateWindowMs: positiveMs.default(RELAY_DEFAULTS.nats.duplicateWindowMs),
        storage: z.enum(["file", "memory"]).default("file"),
      })
      .optional(),
  })
  .refine((c) => !(c.passwordEnv !== undefined && c.user === undefined), {
    message: "passwordEnv needs user",
    path: ["user"],
  });

const redisSchema = z
  .strictObject({
    kind: z.literal("redis"),
    ...common,
    url: z.string().min(1).optional(),
    urlEnv: envRef.optional(),
    /** Stream key; "{topic}" is replaced by the event's topic. */
    stream: z.string().min(1),
    /** How long a relayed idempotency key is remembered against duplicates. */
    dedupeWindowMs: positiveMs.default(RELAY_DEFAULTS.redis.dedupeWindowMs),
    dedupePrefix: z.string().min(1).default(RELAY_DEFAULTS.redis.dedupePrefix),
    /** Approximate MAXLEN trim on XADD (no trim when absent). */
    maxLen: z.number().int().positive().optional(),
    commandTimeoutMs: positiveMs.default(RELAY_DEFAULTS.redis.commandTimeoutMs),
    maxInFlight: maxInFlight(RELAY_DEFAULTS.redis.maxInFlight),
  })
  .refine((c) => (c.url === undefined) !== (c.urlEnv === undefined), {
    message: "needs exactly one of url or urlEnv",
    path: ["urlEnv"],
  });

const rabbitmqSchema = z
  .strictObject({
    kind: z.literal("rabbitmq"),
    ...common,
    url: z.string().min(1).optional(),
    urlEnv: envRef.optional(),
    /** Exchange to publish to; "" is the default exchange (routing key = queue name). */
    exchange: z.string().default(RELAY_DEFAULTS.rabbitmq.exchange),
    /** Routing key; "{topic}" is replaced by the event's topic. */
    routingKey: z.string().default(RELAY_DEFAULTS.rabbitmq.routingKey),
    /** Declare the exchange on connect. */
    assertExchange: z
      .strictObject({
        type: z.enum(["topic", "direct", "fanout", "headers"]),
        durable: z.boolean().default(true),
      })
      .optional(),
    /** Unroutable messages come back and are retried instead of silently dropped. */
    mandatory: z.boolean().default(RELAY_DEFAULTS.rabbitmq.mandatory),
    confirmTimeoutMs: positiveMs.default(RELAY_DEFAULTS.rabbitmq.confirmTimeoutMs),
    maxInFlight: maxInFlight(RELAY_DEFAULTS.rabbitmq.maxInFlight),
  })
  .refine((c) => (c.url === undefined) !== (c.urlEnv === undefined), {
    message: "needs exactly one of url or urlEnv",
    path: ["urlEnv"],
  });

const relaySchema = z.discriminatedUnion("kind", [webhookSchema, natsSchema, redisSchema, rabbitmqSchema]);

/** zod schema of `OUTBOX_RELAYS`: an array of relay configs (env references unresolved). */
export const relaysConfigSchema = z.array(relaySchema).superRefine((relays, ctx) => {
  const seen = new Set<string>();
  relays.forEach((r, i) => {
    if (seen.has(r.name)) {
      ctx.addIssue({ code: "custom", message: `duplicate relay name "${r.name}"`, path: [i, "name"] });
    }
    seen.add(r.name);
  });
});

export type RelayConfigInput = z.input<typeof relaySchema>;
type Parsed = z.output<typeof relaySchema>;

export type WebhookRelayConfig = Omit<Extract<Parsed, { kind: "webhook" }>, "secretEnv"> & { secret: string };
export type NatsRelayConfig = Omit<Extract<Parsed, { kind: "nats" }>, "passwordEnv" | "tokenEnv"> & {
  password?: string;
  token?: string;
};
export type RedisRelayConfig = Omit<Extract<Parsed, { kind: "redis" }>, "urlEnv"> & { url: string };
export type RabbitmqRelayConfig = Omit<Extract<Parsed, { kind: "rabbitmq" }>, "urlEnv"> & { url: string };
/** One relay's config with defaults applied and env references resolved. */
export type RelayConfig = WebhookRelayConfig | NatsRelayConfig | RedisRelayConfig | RabbitmqRelayConfig;
export type RelayKind = RelayConfig["kind"];
export type RelaysConfig = RelayConfig[];

/** `$[0].topics[1]` from a zod issue path. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  return `$${path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}`;
}

function configError(source: string, path: ReadonlyArray<PropertyKey>, message: string, cause?: unknown) {
  const where = path.length === 0 ? "" : ` ${jsonPath(path)}:`;
  return new CutoverError("CONFIG_INVALID", `${source}:${where} ${message}`, {
    details: { variable: RELAYS_ENV, source, path: jsonPath(path) },
    ...(cause === undefined ? {} : { cause }),
  });
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Validates a parsed relays config (an array) and resolves its env references
 * (`secretEnv`, `urlEnv`, `passwordEnv`, `tokenEnv`) from `env`. Throws
 * CONFIG_INVALID naming `source` and the JSON path of the first bad field;
 * secret values never appear in the message.
 */
export function parseRelaysConfig(value: unknown, env: Env, source = RELAYS_ENV): RelaysConfig {
  const result = relaysConfigSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const more = result.error.issues.length - 1;
    throw configError(
      source,
      issue.path,
      `${issue.message}${more > 0 ? ` (+${more} more issue${more > 1 ? "s" : ""})` : ""}`,
    );
  }
  return result.data.map((relay, i): RelayConfig => {
    const fromEnv = (field: string, name: string): string => {
      const v = env[name];
      if (v === undefined || v === "") {
        throw configError(source, [i, field], `environment variable ${name} is not set`);
      }
      return v;
    };
    switch (relay.kind) {
      case "webhook": {
        const { secretEnv, ...rest } = relay;
        const secret = secretEnv === undefined ? relay.secret! : fromEnv("secretEnv", secretEnv);
        if (secret.length < 16)
          throw configError(source, [i, "secretEnv"], `${secretEnv} must be at least 16 characters`);
        return { ...rest, secret };
      }
      case "nats": {
        const { passwordEnv, tokenEnv, ...rest } = relay;
        return {
          ...rest,
          ...(passwordEnv === undefined ? {} : { password: fromEnv("passwordEnv", passwordEnv) }),
          ...(tokenEnv === undefined ? {} : { token: fromEnv("tokenEnv", tokenEnv) }),
        };
      }
      default: {
        const { urlEnv, ...rest } = relay;
        return { ...rest, url: urlEnv === undefined ? relay.url! : fromEnv("urlEnv", urlEnv) } as RelayConfig;
      }
    }
  });
}

/**
 * Reads the relays from `OUTBOX_RELAYS`: inline JSON (starts with `[`) or the
 * path of a JSON file. Unset or empty means no relays. Errors name the
 * variable (and the file) and the JSON path of the bad field.
 */
export function loadRelaysConfig(env: Env = process.env): RelaysConfig {
  const raw = env[RELAYS_ENV]?.trim();
  if (!raw) return [];
  let text = raw;
  let source = RELAYS_ENV;
  if (!raw.startsWith("[") && !raw.startsWith("{")) {
    source = `${RELAYS_ENV} (file ${raw})`;
    try {
      text = readFileSync(raw, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
      throw configError(
        source,
        [],
        `cannot read the file (${code}); set it to inline JSON or a JSON file path`,
        err,
      );
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the input, which may hold an inline secret: keep only the position.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw configError(source, [], `is not valid JSON${at === undefined ? "" : ` (at position ${at})`}`);
  }
  if (!Array.isArray(value)) throw configError(source, [], "must be a JSON array of relay configs");
  return parseRelaysConfig(value, env, source);
}
