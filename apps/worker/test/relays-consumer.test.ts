import { type Consumer, createConsumer } from "@cutover/outbox";
import { afterEach, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { createRelays, parseRelaysConfig, type Relay } from "../src/relays/index.js";
import { memoryLogger } from "./relays-fixtures/events.js";
import { newGeneration, publishRange, statusCounts, waitFor } from "./relays-fixtures/outbox.js";
import {
  AMQP_URL,
  dedupe,
  inKeyOrder,
  NATS_URL,
  natsStream,
  REDIS_URL,
  type Received,
  rabbitQueue,
  redisReader,
  runId,
  startWebhookReceiver,
} from "./relays-fixtures/receivers.js";

const db = useTestDatabase();
const SECRET = "whsec_consumer_test_secret";
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("relays through the real consumer", () => {
  it("10,000 events over 2 generations reach the webhook, JetStream, Redis and RabbitMQ, each exactly once after dedupe, in key order", {
    timeout: 150_000,
  }, async () => {
    const run = runId();
    const total = 10_000;
    const pool = db.current.pool;

    const hook = await startWebhookReceiver(SECRET);
    cleanups.push(() => hook.close());
    const stream = await natsStream(`cutover_test_${run}`, [`cutover-test-${run}.>`]);
    cleanups.push(() => stream.close());
    const redis = await redisReader(`cutover-test:${run}:`);
    cleanups.push(() => redis.close());
    const rabbit = await rabbitQueue(`cutover-test-${run}`, `cutover-test-${run}`);
    cleanups.push(() => rabbit.close());

    const config = parseRelaysConfig(
      [
        { kind: "webhook", name: "relay.hook", topics: ["order.*"], url: hook.url, secretEnv: "HOOK_SECRET" },
        {
          kind: "nats",
          name: "relay.jetstream",
          topics: ["*"],
          servers: NATS_URL,
          subjectPrefix: `cutover-test-${run}.`,
        },
        {
          kind: "redis",
          name: "relay.redis",
          topics: ["order.placed"],
          url: REDIS_URL,
          stream: `cutover-test:${run}:{topic}`,
          dedupePrefix: `cutover-test:${run}:dedupe:`,
        },
        {
          kind: "rabbitmq",
          name: "relay.rabbit",
          topics: ["order.placed"],
          url: AMQP_URL,
          exchange: `cutover-test-${run}`,
          assertExchange: { type: "topic" },
        },
      ],
      { HOOK_SECRET: SECRET },
    );
    const logger = memoryLogger();
    const relays: Relay[] = createRelays(config, { logger });
    cleanups.push(async () => {
      await Promise.all(relays.map((r) => r.close()));
    });

    // Two generations side by side, each served by its own consumer; ordering keys on two events of three.
    const generations = [await newGeneration(pool, `a-${run}`), await newGeneration(pool, `b-${run}`)];
    const consumers: Consumer[] = generations.map((generation, i) =>
      createConsumer({
        pool,
        generation,
        workerId: `relay-${run}-${i}`,
        handlers: relays.map((r) => r.handler),
        concurrency: 4,
        batchSize: 50,
        pollIntervalMs: 100,
        backoff: { baseMs: 50, maxMs: 500 },
      }),
    );
    cleanups.push(async () => {
      await Promise.all(consumers.map((c) => c.stop({ timeoutMs: 5000 })));
    });
    await Promise.all(consumers.map((c) => c.start()));
    const orderingKey = (n: number) => (n % 3 === 2 ? undefined : `key-${n % 40}`);
    await Promise.all(
      generations.map((generation, i) =>
        publishRange(pool, generation, { run, from: i * (total / 2), count: total / 2, orderingKey }),
      ),
    );

    await waitFor(async () => (await statusCounts(pool)).done === total, 200);
    expect(await statusCounts(pool)).toEqual({ done: total });

    const expectedKeys = new Set(Array.from({ length: total }, (_, n) => `${run}-${n}`));
    const check = (name: string, received: readonly Received[], allowDuplicates: boolean) => {
      const d = dedupe(received);
      expect(d.unique, name).toEqual(expectedKeys);
      if (!allowDuplicates) expect(d.duplicates, name).toEqual([]);
      expect(inKeyOrder(d.byKey), `${name} key order`).toBe(true);
      expect(d.byKey.size, name).toBe(80);
      const gens = new Set(received.map((r) => `${r.generation}:${r.n < total / 2 ? 0 : 1}`));
      expect(gens, name).toEqual(new Set([`${generations[0]}:0`, `${generations[1]}:1`]));
    };
    check("webhook", hook.received, true);
    expect(hook.rejectedSignatures).toBe(0);
    // JetStream and Redis dedupe on the way in: the stream itself holds each key once.
    check("jetstream", await stream.readAll(), false);
    check("redis", await redis.readAll(`cutover-test:${run}:order.placed`), false);
    await waitFor(() => rabbit.received.length >= total);
    check("rabbitmq", rabbit.received, true);
    expect(rabbit.received.every((m) => m.persistent && m.messageId === m.idempotencyKey)).toBe(true);

    for (const r of relays) expect(r.health(), r.name).toEqual({ ok: true, degraded: false });
    expect(logger.lines.filter((l) => l.level === "warn" || l.level === "error")).toEqual([]);
  });
});
