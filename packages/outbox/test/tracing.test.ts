import { Writable } from "node:stream";
import { createPublisher, defineEvents, type OutboxEvent, PermanentError } from "@cutover/outbox";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { useTestDatabase } from "../../../test/harness/db.js";
import { installTracing, parentOf, type TestTracing, traceparentOf } from "../../../test/harness/tracing.js";
import { newGeneration, useConsumers } from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

const events = defineEvents({
  "order.placed": z.object({ n: z.number().int() }),
  "order.cancelled": z.object({ n: z.number().int() }),
});

let tracing: TestTracing;
beforeAll(() => {
  tracing = installTracing();
});
afterAll(async () => {
  await tracing.shutdown();
});

/** A pino logger writing to memory; lines() parses each JSON line. */
function memoryPino() {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      raw.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: "debug" }, stream);
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function inTx<T>(fn: (client: import("pg").PoolClient) => Promise<T>): Promise<T> {
  const client = await db.current.pool.connect();
  try {
    await client.query("BEGIN");
    const r = await fn(client);
    await client.query("COMMIT");
    return r;
  } finally {
    client.release();
  }
}

async function headersOf(id: string): Promise<Record<string, string>> {
  const { rows } = await db.current.pool.query("SELECT headers FROM cutover.outbox WHERE id = $1", [id]);
  return rows[0].headers;
}

describe("tracing with @opentelemetry/api and an SDK", () => {
  it("one trace: the request's span -> publish <topic> (PRODUCER) -> process <topic> (CONSUMER), with ctx.logger joined to it", async () => {
    tracing.exporter.reset();
    const pool = db.current.pool;
    const gen = await newGeneration(pool);
    const pub = await createPublisher({ events, db: pool, generation: gen });
    const published = await trace.getTracer("test").startActiveSpan("POST /orders", async (span) => {
      try {
        return await inTx((c) =>
          pub.publish(c, "order.placed", { n: 1 }, { tenant: "acme", headers: { source: "api" } }),
        );
      } finally {
        span.end();
      }
    });
    const publish = tracing.one("publish order.placed");
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(publish.attributes).toMatchObject({
      "messaging.system": "cutover",
      "messaging.operation.type": "publish",
      "messaging.destination.name": "order.placed",
      "messaging.message.id": published.id,
      "cutover.generation": gen,
      "cutover.tenant": "acme",
    });
    const requestSpan = tracing
      .spans()
      .find((s) => s.name === "POST /orders" && s.spanContext().spanId === parentOf(publish));
    expect(requestSpan).toBeDefined();
    // The stored headers carry the producer span's context next to the caller's own.
    const headers = await headersOf(published.id!);
    expect(headers).toEqual({ source: "api", traceparent: traceparentOf(publish) });

    const log = memoryPino();
    let activeInHandler: string | undefined;
    const c = consumers.create({
      generation: gen,
      pollIntervalMs: 50,
      logger: log.logger,
      handlers: [
        {
          name: "billing.charge",
          topics: ["order.placed"],
          async handle(_event: OutboxEvent, ctx) {
            activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
            ctx.logger.info({ amount: 5 }, "charging");
          },
        },
      ],
    });
    await c.drain({ timeoutMs: 30_000 });
    await c.stop({ timeoutMs: 5000 });

    const process = tracing.one("process order.placed");
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.spanContext().traceId).toBe(publish.spanContext().traceId);
    expect(parentOf(process)).toBe(publish.spanContext().spanId);
    expect(process.links.map((l) => l.context.spanId)).toEqual([publish.spanContext().spanId]);
    expect(process.attributes).toMatchObject({
      "messaging.system": "cutover",
      "messaging.operation.type": "process",
      "messaging.destination.name": "order.placed",
      "messaging.message.id": published.id,
      "messaging.consumer.group.name": "billing.charge",
      "cutover.generation": gen,
      "cutover.tenant": "acme",
    });
    expect(process.status.code).not.toBe(SpanStatusCode.ERROR);
    // The handler ran with its process span active, so its own spans nest under it.
    expect(activeInHandler).toBe(process.spanContext().spanId);

    const line = log.lines().find((l) => l.msg === "charging");
    expect(line).toMatchObject({
      amount: 5,
      event_id: published.id,
      topic: "order.placed",
      generation: gen,
      handler: "billing.charge",
      attempt: 1,
      tenant: "acme",
      trace_id: process.spanContext().traceId,
      span_id: process.spanContext().spanId,
    });
  });

  it("a batch is one publish span with its message count; every event carries its context", async () => {
    tracing.exporter.reset();
    const pool = db.current.pool;
    const gen = await newGeneration(pool);
    const pub = await createPublisher({ events, db: pool, generation: gen });
    const mixed = await inTx((c) =>
      pub.publishBatch(c, [
        { topic: "order.placed", payload: { n: 1 } },
        { topic: "order.cancelled", payload: { n: 2 } },
        {
          topic: "order.placed",
          payload: { n: 3 },
          headers: { traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01` },
        },
      ]),
    );
    const same = await inTx((c) =>
      pub.publishBatch(c, [
        { topic: "order.placed", payload: { n: 4 } },
        { topic: "order.placed", payload: { n: 5 } },
      ]),
    );
    const batch = tracing.one("publish");
    expect(batch.kind).toBe(SpanKind.PRODUCER);
    expect(batch.attributes["messaging.batch.message_count"]).toBe(3);
    expect(batch.attributes["messaging.destination.name"]).toBeUndefined();
    expect((await headersOf(mixed[0]!.id!)).traceparent).toBe(traceparentOf(batch));
    expect((await headersOf(mixed[1]!.id!)).traceparent).toBe(traceparentOf(batch));
    // A traceparent the caller set itself is kept (an event forwarded with its own trace).
    expect((await headersOf(mixed[2]!.id!)).traceparent).toBe(`00-${"1".repeat(32)}-${"2".repeat(16)}-01`);
    const placed = tracing.one("publish order.placed");
    expect(placed.attributes["messaging.batch.message_count"]).toBe(2);
    for (const r of same) expect((await headersOf(r.id!)).traceparent).toBe(traceparentOf(placed));
  });

  it("a failed publish and a failed handler end their spans with an error status", async () => {
    tracing.exporter.reset();
    const pool = db.current.pool;
    const gen = await newGeneration(pool);
    const pub = await createPublisher({ events, db: pool, generation: gen });
    await inTx(async (c) => {
      await expect(pub.publish(c, "order.placed", { n: "x" } as never)).rejects.toThrow();
      await pub.publish(c, "order.placed", { n: 1 });
    });
    const spans = tracing.spans().filter((s) => s.name === "publish order.placed");
    expect(spans.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.UNSET]);

    const c = consumers.create({
      generation: gen,
      pollIntervalMs: 50,
      handlers: [
        {
          name: "billing.refuse",
          topics: ["order.placed"],
          async handle() {
            throw new PermanentError("card declined");
          },
        },
      ],
    });
    await c.drain({ timeoutMs: 30_000 });
    const process = tracing.one("process order.placed");
    expect(process.status.code).toBe(SpanStatusCode.ERROR);
    expect(process.status.message).toContain("card declined");
    expect(parentOf(process)).toBe(spans[1]!.spanContext().spanId);
  });

  it("an event published without a trace gets a new trace, not the context the consumer was started in", async () => {
    tracing.exporter.reset();
    const pool = db.current.pool;
    const gen = await newGeneration(pool);
    // As a publisher without OpenTelemetry writes it: no trace context in the headers.
    await pool.query(
      "INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key) VALUES ($1, 'order.placed', '{\"n\": 1}', 'untraced')",
      [gen],
    );
    let loggedTrace: unknown;
    await trace.getTracer("test").startActiveSpan("deploy script", async (outer) => {
      const c = consumers.create({
        generation: gen,
        pollIntervalMs: 50,
        logger: memoryPino().logger,
        handlers: [
          {
            name: "billing.charge",
            topics: ["order.placed"],
            async handle(_event: OutboxEvent, ctx) {
              loggedTrace = trace.getActiveSpan()?.spanContext().traceId;
              ctx.logger.info({}, "charging");
            },
          },
        ],
      });
      await c.drain({ timeoutMs: 30_000 });
      await c.stop({ timeoutMs: 5000 });
      outer.end();
    });
    const process = tracing.one("process order.placed");
    expect(parentOf(process)).toBeUndefined();
    expect(process.links).toEqual([]);
    expect(process.spanContext().traceId).not.toBe(tracing.one("deploy script").spanContext().traceId);
    expect(loggedTrace).toBe(process.spanContext().traceId);
  });

  it("a handler that returns after swallowing a failed statement has an ERROR span, like its outcome", async () => {
    tracing.exporter.reset();
    const pool = db.current.pool;
    const gen = await newGeneration(pool);
    const pub = await createPublisher({ events, db: pool, generation: gen });
    await inTx((c) => pub.publish(c, "order.placed", { n: 1 }));
    const c = consumers.create({
      generation: gen,
      pollIntervalMs: 50,
      maxAttempts: 1,
      handlers: [
        {
          name: "billing.swallow",
          topics: ["order.placed"],
          async handle(_event: OutboxEvent, ctx) {
            await ctx.tx.query("SELECT 1/0").catch(() => {});
          },
        },
      ],
    });
    const drained = await c.drain({ timeoutMs: 30_000 });
    expect(drained.dead).toBe(1);
    const process = tracing.one("process order.placed");
    expect(process.status).toMatchObject({ code: SpanStatusCode.ERROR });
    expect(process.status.message).toContain("left its transaction failed");
  });
});
