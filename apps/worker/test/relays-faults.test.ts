import { type Consumer, createConsumer } from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { AMQP_URL, hostPort, missing, NATS_URL, needs, REDIS_URL } from "./relays-fixtures/brokers.js";
import { newGeneration, publishRange, statusCounts, waitFor } from "./relays-fixtures/outbox.js";
import { dedupe, type Received, runId } from "./relays-fixtures/receivers.js";
import { expectDelivered, startReceivers, startRelays, useCleanups } from "./relays-fixtures/setup.js";
import { TcpProxy } from "./relays-fixtures/tcp-proxy.js";

const db = useTestDatabase();
const SECRET = "whsec_fault_test_secret_";
const cleanups = useCleanups();

/** The broker's URL (credentials and all) pointed at a local proxy port instead. */
function viaProxy(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}

describe.skipIf(missing("nats", "redis", "rabbitmq"))(
  needs("relays when the connection to every broker is cut mid-stream", "nats", "redis", "rabbitmq"),
  () => {
    it("degrade in health, retry through the consumer, resume when it is back: everything arrives, duplicates only where documented, no crash", {
      timeout: 150_000,
    }, async () => {
      const run = runId();
      const first = 1_480;
      // Published once the connections are cut, each under a key of its own:
      // every relay has sends to make during the outage. (With overlapped
      // sends the events at the heads of the 20 keys may already have their
      // fast webhook delivery done when the cut comes, and key order holds
      // back the rest, so without these a relay could see no failure at all.)
      const late = 20;
      const total = first + late;
      const pool = db.current.pool;

      const { hook, stream, redis, rabbit } = await startReceivers(run, SECRET, cleanups);

      const hookPort = Number(new URL(hook.url).port);
      const proxies = {
        webhook: await new TcpProxy("127.0.0.1", hookPort).start(),
        nats: await new TcpProxy(...hostPort(NATS_URL)).start(),
        redis: await new TcpProxy(...hostPort(REDIS_URL)).start(),
        rabbitmq: await new TcpProxy(...hostPort(AMQP_URL)).start(),
      };
      cleanups.push(async () => {
        await Promise.all(Object.values(proxies).map((p) => p.close()));
      });

      const { relays, logger } = startRelays(
        [
          {
            kind: "webhook",
            name: "relay.hook",
            topics: ["order.placed"],
            url: `http://127.0.0.1:${proxies.webhook.port}/hooks/outbox`,
            secret: SECRET,
            requestTimeoutMs: 2000,
          },
          {
            kind: "nats",
            name: "relay.jetstream",
            topics: ["order.placed"],
            servers: viaProxy(NATS_URL, proxies.nats.port),
            subjectPrefix: `cutover-test-${run}.`,
            ackTimeoutMs: 1000,
          },
          {
            kind: "redis",
            name: "relay.redis",
            topics: ["order.placed"],
            url: viaProxy(REDIS_URL, proxies.redis.port),
            stream: `cutover-test:${run}:{topic}`,
            dedupePrefix: `cutover-test:${run}:dedupe:`,
            commandTimeoutMs: 1000,
          },
          {
            kind: "rabbitmq",
            name: "relay.rabbit",
            topics: ["order.placed"],
            url: viaProxy(AMQP_URL, proxies.rabbitmq.port),
            exchange: `cutover-test-${run}`,
            confirmTimeoutMs: 1000,
          },
        ],
        {},
        cleanups,
      );

      const generation = await newGeneration(pool, `fault-${run}`);
      const consumer: Consumer = createConsumer({
        pool,
        generation,
        workerId: `relay-fault-${run}`,
        handlers: relays.map((r) => r.handler),
        concurrency: 4,
        batchSize: 20,
        pollIntervalMs: 100,
        handlerTimeoutMs: 5000,
        maxAttempts: 100_000,
        backoff: { baseMs: 20, maxMs: 300 },
      });
      cleanups.push(() => consumer.stop({ timeoutMs: 5000 }));
      const retried = new Set<string>();
      consumer.on("failed", (f) => retried.add(f.id));
      await consumer.start();
      await publishRange(pool, generation, {
        run,
        from: 0,
        count: first,
        orderingKey: (n) => `key-${n % 20}`,
      });

      // Mid-stream: every connection dies and stays refused until every relay reports degraded.
      await waitFor(() => hook.received.length >= total / 4, 10);
      for (const p of Object.values(proxies)) p.cut();
      await publishRange(pool, generation, {
        run,
        from: first,
        count: late,
        orderingKey: (n) => `late-${n}`,
      });
      await waitFor(() => relays.every((r) => r.health().degraded));
      expect(relays.map((r) => r.health().ok)).toEqual([true, true, true, true]);
      const duringOutage = hook.received.length;
      await new Promise((r) => setTimeout(r, 500));
      for (const p of Object.values(proxies)) p.restore();

      await waitFor(async () => (await statusCounts(pool)).completed === total, 100);
      expect(await statusCounts(pool)).toEqual({ completed: total });
      expect(duringOutage).toBeLessThan(total);
      // Some events failed during the outage and were retried (their rows are gone now).
      expect(retried.size).toBeGreaterThan(0);

      const check = (name: string, received: readonly Received[], allowDuplicates: boolean) =>
        expectDelivered(name, received, { run, total, allowDuplicates });
      // Exactly once into JetStream (Nats-Msg-Id inside the duplicate window) and Redis (dedupe guard inside its window).
      check("jetstream", await stream.readAll(), false);
      check("redis", await redis.readAll(`cutover-test:${run}:order.placed`), false);
      // At-least-once with the idempotency key: the receivers' dedupe gives exactly once.
      check("webhook", hook.received, true);
      await waitFor(() => dedupe(rabbit.received).unique.size >= total);
      check("rabbitmq", rabbit.received, true);

      await waitFor(() => relays.every((r) => !r.health().degraded));
      const warned = new Set(logger.lines.filter((l) => l.msg === "relay degraded").map((l) => l.obj.relay));
      expect(warned).toEqual(new Set(["relay.hook", "relay.jetstream", "relay.redis", "relay.rabbit"]));
      expect(
        new Set(logger.lines.filter((l) => l.msg === "relay recovered").map((l) => l.obj.relay)),
      ).toEqual(warned);
    });
  },
);
