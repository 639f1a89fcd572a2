import { type Consumer, createConsumer } from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { missing, needs } from "./relays-fixtures/brokers.js";
import { newGeneration, publishRange, statusCounts, waitFor } from "./relays-fixtures/outbox.js";
import { AMQP_URL, NATS_URL, REDIS_URL, type Received, runId } from "./relays-fixtures/receivers.js";
import { expectDelivered, startReceivers, startRelays, useCleanups } from "./relays-fixtures/setup.js";

const db = useTestDatabase();
const SECRET = "whsec_consumer_test_secret";
const cleanups = useCleanups();

describe.skipIf(missing("nats", "redis", "rabbitmq"))(
  needs("relays through the real consumer", "nats", "redis", "rabbitmq"),
  () => {
    it("10,000 events over 2 generations reach the webhook, JetStream, Redis and RabbitMQ, each exactly once after dedupe, in key order", {
      timeout: 150_000,
    }, async () => {
      const run = runId();
      const total = 10_000;
      const pool = db.current.pool;

      const { hook, stream, redis, rabbit } = await startReceivers(run, SECRET, cleanups);

      const { relays, logger } = startRelays(
        [
          {
            kind: "webhook",
            name: "relay.hook",
            topics: ["order.*"],
            url: hook.url,
            secretEnv: "HOOK_SECRET",
          },
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
        cleanups,
      );

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

      await waitFor(async () => (await statusCounts(pool)).completed === total, 200);
      expect(await statusCounts(pool)).toEqual({ completed: total });

      const check = (name: string, received: readonly Received[], allowDuplicates: boolean) => {
        const d = expectDelivered(name, received, { run, total, allowDuplicates });
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
  },
);
