#!/usr/bin/env node
// One in-process burn-down of N pre-published events with a trivial handler,
// for CPU profiles of the consumer's hot path (run under node --cpu-prof).
// Uses DATABASE_URL (an admin URL; a fresh database is created) or the
// embedded server. Usage: node tools/bench/burndown-probe.mjs [--n 30000] [--cutover '{json}']
// [--profile out.cpuprofile] (CPU profile of the burn-down only, not the publishing).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { parseArgs } from "node:util";
import { z } from "zod";
import * as outbox from "../../packages/outbox/dist/index.js";
import { probeSetup } from "./lib/probe.mjs";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "30000" },
    cutover: { type: "string", default: "{}" },
    profile: { type: "string" },
  },
});
const N = Number(values.n);
const { server, url, events, pool, generation, publisher } = await probeSetup(
  "burnprobe",
  { "probe.item": z.object({ seq: z.number(), orderId: z.string(), amount: z.number() }) },
  { poolSize: 4, notify: false },
);
for (let i = 0; i < N; i += 1000) {
  const c = await pool.connect();
  await c.query("BEGIN");
  await publisher.publishBatch(
    c,
    Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({
      topic: "probe.item",
      payload: { seq: i + j, orderId: `o-${i + j}`, amount: 12.5 },
    })),
  );
  await c.query("COMMIT");
  c.release();
}
await pool.query("VACUUM ANALYZE cutover.outbox");
let handled = 0;
let first = 0;
let done;
const finished = new Promise((r) => {
  done = r;
});
const handler = outbox.defineHandler(events, {
  name: "probe.h",
  topics: ["probe.item"],
  handle: async () => {
    if (handled++ === 0) first = performance.now();
  },
});
const consumer = outbox.createConsumer({
  databaseUrl: url,
  generation,
  handlers: [handler],
  ...JSON.parse(values.cutover),
});
const session = values.profile ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
}
const cpu0 = process.cpuUsage();
await consumer.start();
const timer = setInterval(async () => {
  const { rows } = await pool.query(
    "SELECT count(*)::int AS n FROM cutover.outbox WHERE generation = $1 AND status <> 'done'",
    [generation],
  );
  if (rows[0].n === 0) done();
}, 20);
await finished;
const secs = (performance.now() - first) / 1000;
const cpu = process.cpuUsage(cpu0);
clearInterval(timer);
if (session) {
  const { profile } = await session.post("Profiler.stop");
  writeFileSync(values.profile, JSON.stringify(profile));
  session.disconnect();
}
await consumer.stop();
await pool.end();
process.stdout.write(
  `${N} events in ${secs.toFixed(2)} s: ${Math.round(N / secs)} events/s; worker CPU ${(((cpu.user + cpu.system) / 1000 / N) * 1000).toFixed(1)} µs/event\n`,
);
await server.stop();
