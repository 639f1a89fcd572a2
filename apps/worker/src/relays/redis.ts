import { Redis } from "ioredis";
import type { RedisRelayConfig } from "./config.js";
import { fillTopic } from "./envelope.js";
import { RelayError } from "./errors.js";
import { RelayHealthState } from "./health.js";
import { assembleRelay, type Relay, type RelayDeps, raceAbort } from "./relay.js";

/**
 * Atomically: if the dedupe key exists, return the stream id stored under it
 * (a retry after a lost reply); else XADD and remember the new id for the
 * window. KEYS: dedupe key, stream. ARGV: window ms, maxlen ('' = none), fields...
 */
const RELAY_XADD = `
local existing = redis.call('GET', KEYS[1])
if existing then return {0, existing} end
local id
if ARGV[2] ~= '' then
  id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
else
  id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
end
redis.call('SET', KEYS[1], id, 'PX', ARGV[1])
return {1, id}
`;

type RelayRedis = Redis & {
  cutoverRelayXadd(dedupeKey: string, stream: string, ...args: string[]): Promise<[number, string]>;
};

/**
 * XADDs each event to `stream` (with "{topic}" filled in) as flat fields:
 * id, topic, idempotencyKey, generation, orderingKey, createdAt, headers
 * (JSON), payload (JSON), and traceparent / tracestate when the event has a
 * trace (W3C trace context, also inside headers, so a stream consumer can
 * continue the trace without parsing JSON). A Lua guard makes a retry within `dedupeWindowMs`
 * a no-op, so each key is added once inside the window; at-least-once beyond it.
 */
export function createRedisRelay(config: RedisRelayConfig, deps: RelayDeps): Relay {
  const password = URL.canParse(config.url) ? new URL(config.url).password : undefined;
  const health = new RelayHealthState(config.name, "redis", deps.logger, [password, config.url]);
  let connecting: Promise<void> | undefined;

  const redis = new Redis(config.url, {
    lazyConnect: true,
    // Fail fast while down: the event goes back to the consumer instead of queueing here.
    enableOfflineQueue: false,
    // The sends a chunk overlaps (maxInFlight) leave in one write and come back in one read.
    enableAutoPipelining: true,
    commandTimeout: config.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    connectionName: `cutover_${config.name.replace(/[^A-Za-z0-9_-]/g, "_")}`,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 10), 5_000),
  }) as RelayRedis;
  redis.defineCommand("cutoverRelayXadd", { numberOfKeys: 2, lua: RELAY_XADD });
  redis.on("error", (err: unknown) => health.down(err));
  redis.on("ready", () => health.up());
  redis.on("close", () => {
    if (!health.isClosed) health.down(new Error("connection closed"));
  });

  return assembleRelay(
    config,
    health,
    async (event, ctx) => {
      if (redis.status === "wait") {
        connecting ??= redis.connect().finally(() => {
          connecting = undefined;
        });
      }
      if (connecting !== undefined) {
        await raceAbort(connecting, ctx.signal).catch((err: unknown) => {
          throw new RelayError("RELAY_UNAVAILABLE", config.name, `connect failed: ${health.describe(err)}`, {
            cause: err,
          });
        });
      }
      if (redis.status !== "ready") {
        throw new RelayError("RELAY_UNAVAILABLE", config.name, `redis is ${redis.status}`);
      }
      const dedupeKey = `${config.dedupePrefix}${config.name}:${event.idempotencyKey}`;
      const stream = fillTopic(config.stream, event.topic);
      const fields = [
        "id",
        event.id,
        "topic",
        event.topic,
        "idempotencyKey",
        event.idempotencyKey,
        "generation",
        String(event.generation),
        "orderingKey",
        event.orderingKey ?? "",
        "createdAt",
        event.createdAt.toISOString(),
        "headers",
        JSON.stringify(event.headers),
        "payload",
        JSON.stringify(event.payload),
      ];
      for (const h of ["traceparent", "tracestate"]) {
        const v = event.headers[h];
        if (v !== undefined) fields.push(h, v);
      }
      try {
        await raceAbort(
          redis.cutoverRelayXadd(
            dedupeKey,
            stream,
            String(config.dedupeWindowMs),
            config.maxLen === undefined ? "" : String(config.maxLen),
            ...fields,
          ),
          ctx.signal,
        );
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        const timedOut = /timed out/i.test((err as Error).message ?? "");
        const failure = new RelayError(
          timedOut ? "RELAY_TIMEOUT" : "RELAY_UNAVAILABLE",
          config.name,
          `XADD failed: ${health.describe(err)}`,
          { cause: err },
        );
        health.down(failure);
        throw failure;
      }
    },
    async () => {
      await connecting?.catch(() => {});
      redis.disconnect(false);
    },
  );
}
