import { createConsumer, createPublisher } from "@cutover/outbox";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { installTracing, parentOf, type TestTracing, traceparentOf } from "../../../test/harness/tracing.js";
import { newGeneration, relayTestEvents } from "./relays-fixtures/outbox.js";
import { runId } from "./relays-fixtures/receivers.js";
import { startRelays, useCleanups } from "./relays-fixtures/setup.js";
import {
  amqpTraceReader,
  natsTraceReader,
  redisTraceReader,
  webhookTraceReceiver,
} from "./relays-fixtures/trace-receivers.js";

const db = useTestDatabase();
const cleanups = useCleanups();

let tracing: TestTracing;
beforeAll(() => {
  tracing = installTracing();
});
afterAll(async () => {
  await tracing.shutdown();
});

describe("a trace from publish through each relay to the broker", () => {
  it("request -> publish -> process (per relay) -> relay span, whose context arrives at the webhook, JetStream, Redis and RabbitMQ", {
    timeout: 60_000,
  }, async () => {
    const run = runId();
    const pool = db.current.pool;
    const hook = await webhookTraceReceiver();
    cleanups.push(() => hook.close());
    const nats = await natsTraceReader(`cutover_trace_${run}`, [`cutover-trace-${run}.>`]);
    cleanups.push(() => nats.close());
    const redis = await redisTraceReader();
    const redisStream = `cutover-trace:${run}:order.placed`;
    cleanups.push(() => redis.close([`cutover-trace:${run}:dedupe:relay.redis:${run}-0`]));
    const rabbit = await amqpTraceReader(`cutover-trace-${run}`, `cutover-trace-${run}`);
    cleanups.push(() => rabbit.close());

    const { relays } = startRelays(
      [
        {
          kind: "webhook",
          name: "relay.hook",
          topics: ["order.placed"],
          url: hook.url,
          secretEnv: "HOOK_SECRET",
        },
        {
          kind: "nats",
          name: "relay.jetstream",
          topics: ["order.placed"],
          servers: "nats://127.0.0.1:4222",
          subjectPrefix: `cutover-trace-${run}.`,
        },
        {
          kind: "redis",
          name: "relay.redis",
          topics: ["order.placed"],
          url: "redis://127.0.0.1:6379",
          stream: `cutover-trace:${run}:{topic}`,
          dedupePrefix: `cutover-trace:${run}:dedupe:`,
        },
        {
          kind: "rabbitmq",
          name: "relay.rabbit",
          topics: ["order.placed"],
          url: "amqp://guest:guest@127.0.0.1:5672",
          exchange: `cutover-trace-${run}`,
        },
      ],
      { HOOK_SECRET: "whsec_trace_test_secret" },
      cleanups,
    );

    const generation = await newGeneration(pool, `trace-${run}`);
    const pub = await createPublisher({ events: relayTestEvents, db: pool, generation });
    await trace.getTracer("test").startActiveSpan("POST /orders", async (span) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await pub.publish(client, "order.placed", { n: 0 }, { idempotencyKey: `${run}-0`, tenant: "acme" });
        await client.query("COMMIT");
      } finally {
        client.release();
        span.end();
      }
    });

    const consumer = createConsumer({
      pool,
      generation,
      workerId: `trace-${run}`,
      handlers: relays.map((r) => r.handler),
      pollIntervalMs: 50,
    });
    cleanups.push(() => consumer.stop({ timeoutMs: 5000 }));
    await consumer.drain({ timeoutMs: 30_000 });

    const request = tracing.one("POST /orders");
    const publish = tracing.one("publish order.placed");
    expect(parentOf(publish)).toBe(request.spanContext().spanId);
    const traceId = request.spanContext().traceId;

    const processSpans = tracing.spans().filter((s) => s.name === "process order.placed");
    expect(processSpans).toHaveLength(4);
    const relaySpan = (relay: string): ReadableSpan => {
      const proc = processSpans.find((s) => s.attributes["messaging.consumer.group.name"] === relay);
      expect(proc, relay).toBeDefined();
      expect(proc!.kind).toBe(SpanKind.CONSUMER);
      expect(parentOf(proc!)).toBe(publish.spanContext().spanId);
      const children = tracing.spans().filter((s) => parentOf(s) === proc!.spanContext().spanId);
      expect(children, relay).toHaveLength(1);
      const span = children[0]!;
      expect(span.spanContext().traceId).toBe(traceId);
      expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(span.attributes["cutover.relay"]).toBe(relay);
      return span;
    };

    const hookSpan = relaySpan("relay.hook");
    expect(hookSpan.kind).toBe(SpanKind.CLIENT);
    expect(hookSpan.name).toBe("POST");
    expect(hook.traceparents).toEqual([traceparentOf(hookSpan)]);

    const natsSpan = relaySpan("relay.jetstream");
    expect(natsSpan.kind).toBe(SpanKind.PRODUCER);
    expect(natsSpan.attributes).toMatchObject({
      "messaging.system": "nats",
      "messaging.destination.name": `cutover-trace-${run}.order.placed`,
    });
    expect(await nats.traceparentOf(`cutover-trace-${run}.order.placed`)).toBe(traceparentOf(natsSpan));

    const redisSpan = relaySpan("relay.redis");
    expect(redisSpan.attributes).toMatchObject({
      "messaging.system": "redis",
      "messaging.destination.name": redisStream,
    });
    expect(await redis.traceparents(redisStream)).toEqual([traceparentOf(redisSpan)]);

    const rabbitSpan = relaySpan("relay.rabbit");
    expect(rabbitSpan.attributes).toMatchObject({
      "messaging.system": "rabbitmq",
      "messaging.destination.name": `cutover-trace-${run}`,
      "messaging.rabbitmq.destination.routing_key": "order.placed",
    });
    expect(await rabbit.traceparents()).toEqual([traceparentOf(rabbitSpan)]);
  });
});
