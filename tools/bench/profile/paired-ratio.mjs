#!/usr/bin/env node
// Reads paired.mjs output (a file, or stdin) and prints, per pair of trees,
// the ratio of worker CPU per event and of worker CPU relative to the same
// run's Postgres CPU, per round: median (min-max). When the trees send the
// same statements (equal WAL per event), Postgres CPU per event measures how
// busy the machine was during that run, so the second ratio cancels most of
// the run-to-run swing that both figures share on a shared machine.
//   node tools/bench/profile/paired-ratio.mjs FILE.md
import { readFileSync } from "node:fs";
import { median } from "../lib/stats.mjs";

const text = readFileSync(process.argv[2] ?? 0, "utf8");
const header = text.split("\n").find((l) => l.startsWith("Paired burn-downs"));
if (!header) throw new Error("no paired.mjs header line ('Paired burn-downs ...') in the input");
const names = [...header.matchAll(/(\w[\w.+-]*)=\//g)].map((m) => m[1]);
const runs = new Map();
for (const m of text.matchAll(/^\| (\d+) \| (\S+) \| \d+ \| ([\d.]+) \| ([\d.]+) \|/gm))
  runs.set(`${m[1]}/${m[2]}`, { node: Number(m[3]), pg: Number(m[4]) });
const rounds = [...new Set([...runs.keys()].map((k) => k.split("/")[0]))];
const span = (xs) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`;
const [ref, ...others] = names;
for (const name of others) {
  const pairs = rounds
    .map((r) => [runs.get(`${r}/${ref}`), runs.get(`${r}/${name}`)])
    .filter(([a, b]) => a && b);
  const cpu = pairs.map(([a, b]) => b.node / a.node);
  const rel = pairs.map(([a, b]) => b.node / b.pg / (a.node / a.pg));
  console.log(
    `${name}/${ref}, ${pairs.length} rounds: worker CPU/event ${span(cpu)}; worker CPU / Postgres CPU ${span(rel)}`,
  );
}
