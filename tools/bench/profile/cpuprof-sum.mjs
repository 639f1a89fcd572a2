#!/usr/bin/env node
// Compares groups of V8 .cpuprofile files (node --cpu-prof), each group summed
// over its files (e.g. the 4 worker processes of one paired.mjs --procs run)
// and over its runs, per event: which areas and functions cost more CPU per
// event in one group than in the other. Only the burn window of each profile
// counts: from the first to the last sample whose stack is in Cutover's chunk
// code (packages/outbox/dist/consumer/chunk/), so module loading, JIT of the
// start-up and the idle wait before the backlog are left out; idle samples in
// the window are counted apart (a process waiting for Postgres).
//
//   node tools/bench/profile/cpuprof-sum.mjs --events 100000 \
//     --group 'one=DIR/one-*.cpuprofile' --group 'four=DIR/four-*.cpuprofile' [--top 30]
//
// `events` is per run; a group's run count is its number of distinct
// NAME-RUN prefixes (paired.mjs names files NAME-RUN[-K].cpuprofile).
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { area } from "./cpuprof.mjs";

const { values: args } = parseArgs({
  options: {
    events: { type: "string" },
    group: { type: "string", multiple: true },
    top: { type: "string", default: "30" },
  },
});
if (!args.events || !args.group || args.group.length < 2) {
  process.stderr.write("usage: cpuprof-sum.mjs --events N --group 'a=DIR/a-*.cpuprofile' --group 'b=...'\n");
  process.exit(2);
}
const N = Number(args.events);

function files(pattern) {
  const dir = dirname(pattern);
  const re = new RegExp(
    `^${basename(pattern)
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")}$`,
  );
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** Self ms per function and per area inside the burn window of one profile. */
function windowed(file, acc) {
  const prof = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inChunk = new Map();
  const chunky = (id) => {
    if (inChunk.has(id)) return inChunk.get(id);
    const n = byId.get(id);
    const p = parent.get(id);
    const v = n.callFrame.url.includes("/consumer/chunk/") || (p !== undefined && chunky(p));
    inChunk.set(id, v);
    return v;
  };
  let first = -1;
  let last = -1;
  for (let i = 0; i < prof.samples.length; i++) {
    if (chunky(prof.samples[i])) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) return;
  for (let i = first; i <= last; i++) {
    const ms = (prof.timeDeltas[i + 1] ?? 0) / 1000;
    const node = byId.get(prof.samples[i]);
    const a = area(node.callFrame);
    acc.windowMs += ms;
    if (a === "idle") {
      acc.idleMs += ms;
      continue;
    }
    acc.areas.set(a, (acc.areas.get(a) ?? 0) + ms);
    const where = node.callFrame.url
      ? `${node.callFrame.url.replace(/^.*\/(node_modules|packages|tools)\//, "$1/")}:${node.callFrame.lineNumber + 1}`
      : "";
    const key = `${node.callFrame.functionName || "(anonymous)"} ${where}`;
    acc.fns.set(key, (acc.fns.get(key) ?? 0) + ms);
  }
}

const groups = args.group.map((g) => {
  const i = g.indexOf("=");
  const list = files(g.slice(i + 1));
  const runs = new Set(list.map((f) => basename(f).replace(/^([^-]+-\d+).*$/, "$1"))).size;
  const acc = {
    name: g.slice(0, i),
    files: list.length,
    runs,
    windowMs: 0,
    idleMs: 0,
    areas: new Map(),
    fns: new Map(),
  };
  for (const f of list) windowed(f, acc);
  acc.events = runs * N;
  acc.busyMs = acc.windowMs - acc.idleMs;
  return acc;
});

const us = (g, ms) => ((ms ?? 0) * 1000) / g.events;
const f2 = (x) => x.toFixed(2);
const [base] = groups;
const out = [];
out.push(
  `Burn windows summed: ${groups.map((g) => `${g.name} ${g.files} profiles over ${g.runs} runs`).join(", ")}; µs per event.`,
  "",
);
out.push(
  `| | ${groups.map((g) => g.name).join(" | ")} | ${groups
    .slice(1)
    .map((g) => `${g.name} - ${base.name}`)
    .join(" | ")} |`,
);
out.push(
  `|---|${groups.map(() => "---").join("|")}|${groups
    .slice(1)
    .map(() => "---")
    .join("|")}|`,
);
// Samples are taken on a wall-clock interval: a process that is runnable but
// not running (more runnable threads than cores) keeps being sampled in the
// function it was preempted in, so on a busy machine the absolute figures
// overstate CPU. The share of busy samples per area/function is comparable.
const pct = (g, ms) => `${(((ms ?? 0) / g.busyMs) * 100).toFixed(1)}%`;
const row = (label, get) =>
  out.push(
    `| ${label} | ${groups.map((g) => `${f2(us(g, get(g)))} (${pct(g, get(g))})`).join(" | ")} | ${groups
      .slice(1)
      .map((g) => f2(us(g, get(g)) - us(base, get(base))))
      .join(" | ")} |`,
  );
row("**busy (not idle)**", (g) => g.busyMs);
row("idle inside the window", (g) => g.idleMs);
const areaNames = [...new Set(groups.flatMap((g) => [...g.areas.keys()]))].sort(
  (a, b) => (base.areas.get(b) ?? 0) - (base.areas.get(a) ?? 0),
);
for (const a of areaNames) row(a, (g) => g.areas.get(a));
out.push(
  "",
  `Functions whose share of busy samples grew most (${groups[1].name} against ${base.name}), µs/event (share):`,
  "",
);
out.push(
  `| function | ${groups.map((g) => g.name).join(" | ")} | share growth, points |`,
  `|---|${groups.map(() => "---").join("|")}|---|`,
);
const fnNames = [...new Set(groups.flatMap((g) => [...g.fns.keys()]))];
const share = (g, k) => ((g.fns.get(k) ?? 0) / g.busyMs) * 100;
const growth = (k) => share(groups[1], k) - share(base, k);
for (const k of fnNames
  .sort((a, b) => Math.abs(growth(b)) - Math.abs(growth(a)))
  .slice(0, Number(args.top))) {
  out.push(
    `| ${k} | ${groups.map((g) => `${f2(us(g, g.fns.get(k)))} (${pct(g, g.fns.get(k))})`).join(" | ")} | ${growth(k).toFixed(2)} |`,
  );
}
process.stdout.write(`${out.join("\n")}\n`);
