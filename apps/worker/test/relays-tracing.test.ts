import { createConsumer, createPublisher } from "@cutover/outbox";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { installTracing, parentOf, type TestTracing, traceparentOf } from "../../../test/harness/tracing.js";
import { missing, needs } from "./relays-fixtures/brokers.js";
import { newGeneration, relayTestEvents } from "./relays-fixtures/outbox.js";
import { AMQP_URL, NATS_URL, REDIS_URL, runId } from "./relays-fixtures/receivers.js";
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

/**
 * Publishes one event inside a request span, relays it with the one relay
 * `entry` configures, and returns the relay's span after checking the chain
 * request -> publish -> process -> relay span, all in one trace.
 */
async function traceThrough(
  run: string,
  entry: { name: string } & Record<string, unknown>,
): Promise<ReadableSpan> {
  tracing.exporter.reset();
  const pool = db.current.pool;
  const { relays } = startRelays([entry], { HOOK_SECRET: "whsec_trace_test_secret" }, cleanups);
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
  const drained = await consumer.drain({ timeoutMs: 30_000 });
  expect(drained).toMatchObject({ dead: 0 });

  const request = tracing.one("POST /orders");
  const publish = tracing.one("publish order.placed");
  expect(parentOf(publish)).toBe(request.spanContext().spanId);
  const proc = tracing.one("process order.placed");
  expect(proc.kind).toBe(SpanKind.CONSUMER);
  expect(proc.attributes["messaging.consumer.group.name"]).toBe(entry.name);
  expect(parentOf(proc)).toBe(publish.spanContext().spanId);
  const children = tracing.spans().filter((s) => parentOf(s) === proc.spanContext().spanId);
  expect(children).toHaveLength(1);
  const relaySpan = children[0]!;
  expect(relaySpan.spanContext().traceId).toBe(request.spanContext().traceId);
  expect(relaySpan.status.code).not.toBe(SpanStatusCode.ERROR);
  expect(relaySpan.attributes["cutover.relay"]).toBe(entry.name);
  return relaySpan;
}

// One test per transport, so a missing broker skips only its own.
describe("a trace from publish through a relay to the broker", () => {
  it("webhook: a CLIENT POST span whose context is the request's traceparent header", async () => {
    const hook = await webhookTraceReceiver();
    cleanups.push(() => hook.close());
    const span = await traceThrough(runId(), {
      kind: "webhook",
      name: "relay.hook",
      topics: ["order.placed"],
      url: hook.url,
      secretEnv: "HOOK_SECRET",
    });
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.name).toBe("POST");
    expect(span.attributes).toMatchObject({ "http.request.method": "POST", "server.address": "127.0.0.1" });
    expect(hook.traceparents).toEqual([traceparentOf(span)]);
  });

  it.skipIf(missing("nats"))(
    needs("NATS JetStream: a PRODUCER span whose context is in the message's headers", "nats"),
    async () => {
      const run = runId();
      const nats = await natsTraceReader(`cutover_trace_${run}`, [`cutover-trace-${run}.>`], NATS_URL);
      cleanups.push(() => nats.close());
      const span = await traceThrough(run, {
        kind: "nats",
        name: "relay.jetstream",
        topics: ["order.placed"],
        servers: NATS_URL,
        subjectPrefix: `cutover-trace-${run}.`,
      });
      expect(span.kind).toBe(SpanKind.PRODUCER);
      expect(span.attributes).toMatchObject({
        "messaging.system": "nats",
        "messaging.operation.type": "publish",
        "messaging.destination.name": `cutover-trace-${run}.order.placed`,
      });
      expect(await nats.traceparentOf(`cutover-trace-${run}.order.placed`)).toBe(traceparentOf(span));
    },
  );

  it.skipIf(missing("redis"))(
    needs("Redis Streams: a PRODUCER span whose context is the entry's traceparent field", "redis"),
    async () => {
      const run = runId();
      const redis = await redisTraceReader(REDIS_URL);
      const stream = `cutover-trace:${run}:order.placed`;
      cleanups.push(() => redis.close([`cutover-trace:${run}:dedupe:relay.redis:${run}-0`]));
      const span = await traceThrough(run, {
        kind: "redis",
        name: "relay.redis",
        topics: ["order.placed"],
        url: REDIS_URL,
        stream: `cutover-trace:${run}:{topic}`,
        dedupePrefix: `cutover-trace:${run}:dedupe:`,
      });
      expect(span.kind).toBe(SpanKind.PRODUCER);
      expect(span.attributes).toMatchObject({
        "messaging.system": "redis",
        "messaging.destination.name": stream,
      });
      expect(await redis.traceparents(stream)).toEqual([traceparentOf(span)]);
    },
  );

  it.skipIf(missing("rabbitmq"))(
    needs("RabbitMQ: a PRODUCER span whose context is in the message's AMQP headers", "rabbitmq"),
    async () => {
      const run = runId();
      const rabbit = await amqpTraceReader(`cutover-trace-${run}`, `cutover-trace-${run}`, AMQP_URL);
      cleanups.push(() => rabbit.close());
      const span = await traceThrough(run, {
        kind: "rabbitmq",
        name: "relay.rabbit",
        topics: ["order.placed"],
        url: AMQP_URL,
        exchange: `cutover-trace-${run}`,
      });
      expect(span.kind).toBe(SpanKind.PRODUCER);
      expect(span.attributes).toMatchObject({
        "messaging.system": "rabbitmq",
        "messaging.destination.name": `cutover-trace-${run}`,
        "messaging.rabbitmq.destination.routing_key": "order.placed",
      });
      expect(await rabbit.traceparents()).toEqual([traceparentOf(span)]);
    },
  );
});
