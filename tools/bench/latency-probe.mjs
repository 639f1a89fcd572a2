#!/usr/bin/env node
// Where Cutover's publish-commit -> handler-start latency goes, one event at a
// time, in one process: notification received, claim returned, handler start.
// Uses DATABASE_URL (an admin URL; a fresh database is created) or the
// embedded server. Usage: node tools/bench/latency-probe.mjs [--n 500] [--cutover '{json options}']
import { parseArgs } from "node:util";
import pg from "pg";
import { z } from "zod";
import * as outbox from "../../packages/outbox/dist/index.js";
import { channelFor } from "../../packages/outbox/dist/internal.js";
import { probeSetup } from "./lib/probe.mjs";

const { values } = parseArgs({
  options: { n: { type: "string", default: "500" }, cutover: { type: "string", default: "{}" } },
});
const N = Number(values.n);
const { server, url, events, pool, generation, publisher } = await probeSetup("latprobe", {
  "probe.ping": z.object({ seq: z.number() }),
});
const now = () => performance.now();
const marks = new Map();
let started;
const handler = outbox.defineHandler(events, {
  name: "probe.h",
  topics: ["probe.ping"],
  handle: async (e) => {
    marks.get(e.payload.seq).start = now();
    started?.();
  },
});
const consumer = outbox.createConsumer({
  databaseUrl: url,
  generation,
  handlers: [handler],
  ...JSON.parse(values.cutover),
});
let cur;
consumer.on("claimed", () => {
  if (cur) cur.claimed = now();
});
await consumer.start();
// A second, plain LISTEN connection: when the notification reaches a client.
const listen = new pg.Client({ connectionString: url });
await listen.connect();
await listen.query(`LISTEN "${channelFor("cutover", generation)}"`);
listen.on("notification", () => {
  if (cur && cur.notified === undefined) cur.notified = now();
});
await new Promise((r) => setTimeout(r, 300));
for (let seq = 0; seq < N; seq++) {
  const m = {};
  marks.set(seq, m);
  cur = m;
  const c = await pool.connect();
  await c.query("BEGIN");
  await publisher.publish(c, "probe.ping", { seq });
  const p = new Promise((r) => {
    started = r;
  });
  await c.query("COMMIT");
  m.commit = now();
  c.release();
  await p;
}
await consumer.stop();
await listen.end();
await pool.end();
const pct = (xs, q) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const skip = Math.floor(N / 10);
const ms = [...marks.values()].slice(skip);
const row = (label, f) => {
  const xs = ms.map(f).filter((x) => Number.isFinite(x));
  process.stdout.write(
    `${label.padEnd(28)} p50 ${pct(xs, 0.5).toFixed(3)}  p90 ${pct(xs, 0.9).toFixed(3)} ms\n`,
  );
};
row("commit -> notification", (m) => m.notified - m.commit);
row("notification -> claim returned", (m) => m.claimed - m.notified);
row("claim -> handler start", (m) => m.start - m.claimed);
row("commit -> handler start", (m) => m.start - m.commit);
await server.stop();
