import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { afterEach, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { newGeneration, useConsumers } from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

afterEach(() => {
  context.disable();
  propagation.disable();
});

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";

/** One event with a stored traceparent, handled once; what the handler saw of the trace. */
async function handleOne(): Promise<{ logged: Record<string, unknown>; active: string | undefined }> {
  const pool = db.current.pool;
  const gen = await newGeneration(pool);
  await pool.query(
    "INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key, headers) VALUES ($1, 'order.placed', '{\"n\": 1}', $3, $2)",
    [gen, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` }, `k-${gen}`],
  );
  let logged: Record<string, unknown> = {};
  let active: string | undefined;
  const c = consumers.create({
    generation: gen,
    pollIntervalMs: 50,
    logger: {
      debug() {},
      info: (obj: Record<string, unknown>) => {
        logged = obj;
      },
      warn() {},
      error() {},
    },
    handlers: [
      {
        name: "billing.charge",
        topics: ["order.placed"],
        async handle(_event, ctx) {
          active = trace.getActiveSpan()?.spanContext().spanId;
          ctx.logger.info({}, "charging");
        },
      },
    ],
  });
  await c.drain({ timeoutMs: 30_000 });
  return { logged, active };
}

// The API is installed but no SDK: the consumer skips span work (telemetry.ts,
// nothingRegistered) only when nothing registered could observe a difference.
describe("tracing with @opentelemetry/api and no tracer provider", () => {
  it("nothing registered: ctx.logger joins on the stored traceparent, no span is active", async () => {
    const { logged, active } = await handleOne();
    expect(logged).toMatchObject({ trace_id: TRACE_ID, span_id: SPAN_ID, handler: "billing.charge" });
    expect(active).toBeUndefined();
  });

  it("a context manager and propagator registered: the handler runs in the publisher's context", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const { logged, active } = await handleOne();
    expect(logged).toMatchObject({ trace_id: TRACE_ID, span_id: SPAN_ID });
    // The no-op tracer's span carries the extracted context, and it is active.
    expect(active).toBe(SPAN_ID);
  });

  it("a context manager alone: the context the consumer was started in does not reach the handler", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const outer = trace.wrapSpanContext({ traceId: "a".repeat(32), spanId: "b".repeat(16), traceFlags: 1 });
    const { logged, active } = await context.with(trace.setSpan(context.active(), outer), () => handleOne());
    expect(logged).toMatchObject({ trace_id: TRACE_ID, span_id: SPAN_ID });
    expect(active).not.toBe("b".repeat(16));
  });
});
