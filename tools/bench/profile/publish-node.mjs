#!/usr/bin/env node
// Node's own CPU in publishBatch(1,000) (PROFILE.md section 8): validation,
// encoding, key generation, result mapping, with a client that answers at
// once (no socket, no server), so nothing but the publisher's work and the
// bench's payload objects is timed. Two builds of packages/outbox run in the
// same process, alternating A/B per round; each round's ratio B/A, then
// median (min-max).
//
//   npx tsc -b
//   node tools/bench/profile/publish-node.mjs --base-dist /tmp/old/packages/outbox/dist [--rounds 9] [--batches 300]
//   node --cpu-prof --cpu-prof-interval 50 tools/bench/profile/publish-node.mjs   # this tree only, to profile
//
// The client answers the generated-key statement with 1,000 ids and any other
// statement with no rows (so an older build that returns (id, key) rows sees
// every event as a duplicate: its result mapping is then cheaper than real).
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { median } from "../lib/stats.mjs";
import * as cutover from "../systems/cutover.mjs";
import { load, out } from "./common.mjs";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "9" },
    batches: { type: "string", default: "300" },
    "base-dist": { type: "string" },
  },
});
const ROUNDS = Number(args.rounds);
const BATCHES = Number(args.batches);
const BATCH = 1000;

const ids = Array.from({ length: BATCH }, (_, i) => String(i + 1)).join(",");
const client = {
  async query(q) {
    const text = typeof q === "string" ? q : q.text;
    if (text.includes("deployments"))
      return { rows: [{ generation: 1, version: "v", created_at: new Date() }] };
    if (text.includes("string_agg")) return { rows: [{ ids, notified: 1 }] };
    return { rows: [] };
  },
};

async function publisherOf(dir) {
  const lib = await import(pathToFileURL(join(resolve(dir), "index.js")).href);
  return lib.createPublisher({ events: lib.defineEvents(cutover.events.schemas), db: client, generation: 1 });
}

const payloads = (from) =>
  Array.from({ length: BATCH }, (_, k) => ({
    seq: from + k,
    orderId: `ord-${from + k}`,
    amount: 4200,
    currency: "EUR",
  }));

/** Node CPU µs per published row over `BATCHES` calls. */
async function measure(pub) {
  const t0 = process.cpuUsage();
  for (let r = 0; r < BATCHES; r++) {
    await pub.publishBatch(
      client,
      payloads(r * BATCH).map((payload) => ({ topic: "bench.event", payload })),
    );
  }
  const u = process.cpuUsage(t0);
  return (u.user + u.system) / (BATCHES * BATCH);
}

const arms = [
  ["this tree", await publisherOf(new URL("../../../packages/outbox/dist", import.meta.url).pathname)],
];
if (args["base-dist"]) arms.push(["base", await publisherOf(args["base-dist"])]);
for (const [, pub] of arms) for (let w = 0; w < 2; w++) await measure(pub); // warm-up (JIT)
const res = arms.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? arms.map((_, i) => i) : arms.map((_, i) => i).reverse();
  for (const i of order) res[i].push(await measure(arms[i][1]));
}
out(`publishBatch(${BATCH}) x ${BATCHES} per round, ${ROUNDS} rounds, instant client; load ${load()}`);
out();
for (const [i, [name]] of arms.entries()) {
  out(
    `${name}: Node CPU ${median(res[i]).toFixed(2)} µs/row (${res[i].map((x) => x.toFixed(2)).join(", ")})`,
  );
}
if (arms.length === 2) {
  const ratios = res[0].map((x, r) => x / res[1][r]).sort((a, b) => a - b);
  out(
    `this tree / base, per round: ${median(ratios).toFixed(2)}x (${ratios[0].toFixed(2)}-${ratios.at(-1).toFixed(2)})`,
  );
}
