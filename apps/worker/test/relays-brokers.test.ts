import { describe, expect, it } from "vitest";
import { RelayError } from "../src/relays/index.js";
import { missing, needs } from "./relays-fixtures/brokers.js";
import { testCtx, testEvent } from "./relays-fixtures/events.js";
import {
  AMQP_URL,
  NATS_URL,
  natsStream,
  REDIS_URL,
  rabbitQueue,
  redisReader,
  runId,
} from "./relays-fixtures/receivers.js";
import { startRelays, useCleanups } from "./relays-fixtures/setup.js";

const cleanups = useCleanups();

/** The broker's URL with another password. */
function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

/** The one relay `config` configures, with its in-memory log; closed after the test. */
function relayOf(config: Record<string, unknown>, env: Record<string, string> = {}) {
  const { relays, logger } = startRelays([config], env, cleanups);
  return { relay: relays[0]!, logger };
}

async function failure(p: Promise<unknown>): Promise<RelayError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RelayError) return err;
    throw err;
  }
  throw new Error("expected a RelayError");
}

describe.skipIf(missing("nats"))(needs("JetStream relay", "nats"), () => {
  it("a retried publish (same Nats-Msg-Id) is stored once; ensureStream creates the stream; no stream for the subject is a retryable, degrading error", async () => {
    const run = runId();
    const prefix = `cutover-test-${run}.`;
    const { relay: missing } = relayOf({
      kind: "nats",
      name: "relay.nostream",
      topics: ["*"],
      servers: NATS_URL,
      subjectPrefix: prefix,
    });
    const err = await failure(missing.handler.handle(testEvent(1, { run }), testCtx()));
    expect(err.code).toBe("RELAY_REJECTED");
    expect(err.message).toContain(`no JetStream stream captures subject "${prefix}order.placed"`);
    expect(missing.health()).toMatchObject({ ok: true, degraded: true });

    const name = `cutover_test_${run}`;
    const { relay } = relayOf({
      kind: "nats",
      name: "relay.jetstream",
      topics: ["order.placed"],
      servers: [NATS_URL],
      subjectPrefix: prefix,
      ensureStream: { name, storage: "memory" },
    });
    const reader = await natsStream(`${name}_x`, [`unused-${run}.>`]);
    cleanups.push(async () => {
      await reader.nc
        .jetstreamManager()
        .then((m) => m.streams.delete(name))
        .catch(() => {});
      await reader.close();
    });
    for (const n of [1, 2, 1, 1, 3]) await relay.handler.handle(testEvent(n, { run, attempt: 2 }), testCtx());
    const info = await (await reader.nc.jetstreamManager()).streams.info(name);
    expect(info.state.messages).toBe(3);
    expect(info.config.duplicate_window).toBe(120_000 * 1_000_000);
    const msg = await (await reader.nc.jetstreamManager()).streams.getMessage(name, { seq: 1 });
    expect(msg.header.get("Nats-Msg-Id")).toBe(`${run}-1`);
    expect(msg.header.get("traceparent")).toBe(`00-${"a".repeat(32)}-${"b".repeat(16)}-01`);
    expect(msg.json<{ payload: { n: number } }>().payload).toEqual({ n: 1 });
    // The now-existing stream also serves the relay that failed: it recovers on its next success.
    await missing.handler.handle(testEvent(1, { run }), testCtx());
    expect(missing.health().degraded).toBe(false);
  });
});

describe.skipIf(missing("redis"))(needs("Redis Streams relay", "redis"), () => {
  it("a retry after a lost reply does not add twice within the dedupe window; after the window it adds again (at-least-once)", async () => {
    const run = runId();
    const reader = await redisReader(`cutover-test:${run}:`);
    cleanups.push(() => reader.close());
    const { relay } = relayOf(
      {
        kind: "redis",
        name: "relay.redis",
        topics: ["*"],
        urlEnv: "RELAY_REDIS_URL",
        stream: `cutover-test:${run}:{topic}`,
        dedupePrefix: `cutover-test:${run}:dedupe:`,
        dedupeWindowMs: 300,
        maxLen: 10_000,
      },
      { RELAY_REDIS_URL: REDIS_URL },
    );
    for (const n of [1, 1, 2, 1])
      await relay.handler.handle(testEvent(n, { run, orderingKey: "k" }), testCtx());
    const key = `cutover-test:${run}:order.placed`;
    expect((await reader.readAll(key)).map((r) => r.n)).toEqual([1, 2]);
    const [[, fields]] = (await reader.redis.xrange(key, "-", "+", "COUNT", 1)) as [[string, string[]]];
    expect(fields.slice(0, 10)).toEqual([
      "id",
      "1001",
      "topic",
      "order.placed",
      "idempotencyKey",
      `${run}-1`,
      "generation",
      "1",
      "orderingKey",
      "k",
    ]);
    const ttl = await reader.redis.pttl(`cutover-test:${run}:dedupe:relay.redis:${run}-1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    await new Promise((r) => setTimeout(r, 400));
    await relay.handler.handle(testEvent(1, { run }), testCtx());
    expect((await reader.readAll(key)).map((r) => r.n)).toEqual([1, 2, 1]);
  });

  it("an unreachable Redis is retryable and degrades; the password never shows", async () => {
    const { relay, logger } = relayOf({
      kind: "redis",
      name: "relay.redis-down",
      topics: ["*"],
      url: "redis://:hunter2-pass@127.0.0.1:1",
      stream: "s",
    });
    const err = await failure(relay.handler.handle(testEvent(1, { run: runId() }), testCtx()));
    expect(err.code).toBe("RELAY_UNAVAILABLE");
    expect(relay.health()).toMatchObject({ ok: true, degraded: true });
    expect(`${err.message} ${relay.health().lastError} ${JSON.stringify(logger.lines)}`).not.toContain(
      "hunter2",
    );
  });
});

describe.skipIf(missing("rabbitmq"))(needs("RabbitMQ relay", "rabbitmq"), () => {
  it("publishes persistent messages with message_id = idempotency key and waits for the confirm; unroutable is retried, not dropped", async () => {
    const run = runId();
    const exchange = `cutover-test-${run}`;
    const queue = await rabbitQueue(exchange, exchange);
    cleanups.push(() => queue.close());
    const { relay } = relayOf({
      kind: "rabbitmq",
      name: "relay.rabbit",
      topics: ["order.placed"],
      url: AMQP_URL,
      exchange,
      routingKey: "orders.{topic}",
    });
    await relay.handler.handle(testEvent(1, { run, generation: 4 }), testCtx());
    await new Promise((r) => setTimeout(r, 200));
    expect(queue.received).toEqual([
      {
        idempotencyKey: `${run}-1`,
        orderingKey: null,
        generation: 4,
        n: 1,
        messageId: `${run}-1`,
        persistent: true,
      },
    ]);

    // The default exchange with a routing key no queue has: the broker returns it.
    const { relay: nowhere } = relayOf({
      kind: "rabbitmq",
      name: "relay.nowhere",
      topics: ["*"],
      url: AMQP_URL,
      routingKey: `no-queue-${run}`,
    });
    const err = await failure(nowhere.handler.handle(testEvent(2, { run }), testCtx()));
    expect(err.code).toBe("RELAY_REJECTED");
    expect(err.message).toContain("unroutable");
  });

  it("bad credentials are retryable (RELAY_UNAVAILABLE), degrade health and never show the password", async () => {
    const { relay, logger } = relayOf(
      { kind: "rabbitmq", name: "relay.badauth", topics: ["*"], urlEnv: "AMQP_URL", exchange: "amq.topic" },
      { AMQP_URL: withPassword(AMQP_URL, "wrong-password-x") },
    );
    const err = await failure(relay.handler.handle(testEvent(1, { run: runId() }), testCtx()));
    expect(err.code).toBe("RELAY_UNAVAILABLE");
    expect(relay.health()).toMatchObject({ ok: true, degraded: true });
    // Inside the reconnect backoff it refuses at once instead of hammering the broker.
    const again = await failure(relay.handler.handle(testEvent(1, { run: runId() }), testCtx()));
    expect(again.message).toMatch(/disconnected, next reconnect in \d+ ms/);
    const text = `${err.message} ${again.message} ${relay.health().lastError} ${JSON.stringify(logger.lines)}`;
    expect(text).not.toContain("wrong-password-x");
  });
});
