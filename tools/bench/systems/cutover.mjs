// Cutover: createPublisher().publish/publishBatch in the caller's transaction;
// the consumer runs with its exactly-once bookkeeping (event_handled) on.
import { z } from "zod";
import * as outbox from "../../../packages/outbox/dist/index.js";
import { HANDLER, TOPIC } from "../lib/payload.mjs";

export const SCHEMA = "cutover";
export const events = outbox.defineEvents({
  [TOPIC]: z.object({ seq: z.number().int(), orderId: z.string(), amount: z.number(), currency: z.string() }),
});

export const name = "cutover";
export const label = "Cutover";

export function version() {
  return "workspace (packages/outbox)";
}

/** Why the consumer side cannot run, or undefined when it can. */
export function consumerMissing() {
  return typeof outbox.createConsumer === "function" && typeof outbox.defineHandler === "function"
    ? undefined
    : "createConsumer/defineHandler not exported by packages/outbox yet";
}

/** Installs the schema in a fresh database; returns the context enqueue/workers need. */
export async function setup(url, pool) {
  await outbox.migrate({ databaseUrl: url, schema: SCHEMA });
  const { generation } = await outbox.allocateGeneration(pool, { version: "bench", schema: SCHEMA });
  const publisher = await outbox.createPublisher({ events, db: pool, generation, schema: SCHEMA });
  return { publisher, generation, workerConfig: { generation } };
}

/** Enqueues `payloads` on `client`, inside the caller's open transaction. */
export async function insert(ctx, client, payloads) {
  if (payloads.length === 1) await ctx.publisher.publish(client, TOPIC, payloads[0]);
  else
    await ctx.publisher.publishBatch(
      client,
      payloads.map((payload) => ({ topic: TOPIC, payload })),
    );
}

export function remainingQuery(ctx) {
  return {
    text: `SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE generation = $1 AND status IN ('pending', 'in_flight')`,
    values: [ctx.generation],
  };
}

export async function teardown() {}

/**
 * Worker side (runs in a child process). `tuning` overrides consumer options
 * (concurrency, batchSize, ...); without it the library defaults are measured.
 */
export async function createWorker(url, config, tuning, onHandle) {
  const missing = consumerMissing();
  if (missing) throw new Error(missing);
  const handler = outbox.defineHandler(events, {
    name: HANDLER,
    topics: [TOPIC],
    handle: async (event) => {
      onHandle(event.payload.seq);
    },
  });
  const consumer = outbox.createConsumer({
    databaseUrl: url,
    schema: SCHEMA,
    generation: config.generation,
    handlers: [handler],
    ...tuning,
  });
  return {
    start: () => consumer.start(),
    stop: () => consumer.stop({ timeoutMs: 10_000 }),
    metrics: () => (typeof consumer.metrics === "function" ? consumer.metrics() : undefined),
  };
}
