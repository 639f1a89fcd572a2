#!/usr/bin/env node
// Paired publish -> handler-start latency of Cutover's consumer built from
// different trees: each round runs every tree's tools/bench/latency-probe.mjs
// once (in its own process, with its own private PostgreSQL), the trees
// alternating (round r starts with tree r mod n), and takes the ratio of each
// tree's p50 and p99 to the first tree's, pair by pair.
//
//   node tools/bench/profile/latency-paired.mjs --tree before=/tmp/old-clone --tree after=. --n 500 --rounds 6
//
// Each tree must be built (`npx tsc -b` in it). Per run: the probe's hops
// (commit -> notification -> claim returned -> handler start, p50/p99 over
// the events after the probe's warm-up tenth) and the 1-minute load.
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { median } from "../lib/stats.mjs";
import { load, out } from "./common.mjs";

const { values: args } = parseArgs({
  options: {
    tree: { type: "string", multiple: true },
    n: { type: "string", default: "500" },
    rounds: { type: "string", default: "5" },
  },
});
const trees = (args.tree ?? []).map((t) => {
  const i = t.indexOf("=");
  return i < 0 ? { name: t, root: resolve(t) } : { name: t.slice(0, i), root: resolve(t.slice(i + 1)) };
});
if (trees.length < 2) throw new Error("--tree: give at least two, as name=path");
const ROUNDS = Number(args.rounds);

const HOPS = [
  ["commit -> notification", "notify"],
  ["notification -> claim returned", "claim"],
  ["claim -> handler start", "start"],
  ["commit -> handler start", "total"],
];

function probe(tree) {
  const text = execFileSync(
    process.execPath,
    [join(tree.root, "tools", "bench", "latency-probe.mjs"), "--n", args.n],
    {
      cwd: tree.root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const r = {};
  for (const [label, key] of HOPS) {
    const m = new RegExp(`^${label}\\s+p50 (-?[\\d.]+)\\s+p90 (-?[\\d.]+)\\s+p99 (-?[\\d.]+)`, "m").exec(
      text,
    );
    if (!m) throw new Error(`${tree.name}: no "${label}" line in the probe's output:\n${text}`);
    r[key] = { p50: Number(m[1]), p99: Number(m[3]) };
  }
  return r;
}

const f = (x, d = 3) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
out(
  `Paired latency probes, ${args.n} events each (the first tenth warm-up), ${ROUNDS} rounds; trees: ${trees.map((t) => `${t.name}=${t.root}`).join(", ")}`,
);
out();
out(
  "| round | tree | commit -> notification p50 | notification -> claim returned p50 | claim -> handler start p50 | commit -> handler start p50 / p99 | 1-min load |",
);
out("|---|---|---|---|---|---|---|");
const results = trees.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < trees.length; k++) {
    const i = (r + k) % trees.length;
    const l0 = load().split(" / ")[0];
    const x = probe(trees[i]);
    results[i][r] = x;
    out(
      `| ${r + 1} | ${trees[i].name} | ${f(x.notify.p50)} | ${f(x.claim.p50)} | ${f(x.start.p50)} | ${f(x.total.p50)} / ${f(x.total.p99)} | ${l0} -> ${load().split(" / ")[0]} |`,
    );
  }
}
out();
out(`Ratios to ${trees[0].name}, per round (<1: lower latency): median (min-max)`);
out();
out(
  "| tree | commit -> handler start p50 | p99 | notification -> claim returned p50 | claim -> handler start p50 |",
);
out("|---|---|---|---|---|");
const span = (xs) => `${f(median(xs), 2)} (${f(Math.min(...xs), 2)}-${f(Math.max(...xs), 2)})`;
for (let i = 0; i < trees.length; i++) {
  const ratio = (key, q) => results[i].map((x, r) => x[key][q] / results[0][r][key][q]);
  out(
    `| ${trees[i].name} | ${span(ratio("total", "p50"))} | ${span(ratio("total", "p99"))} | ${span(ratio("claim", "p50"))} | ${span(ratio("start", "p50"))} |`,
  );
}
