#!/usr/bin/env node
// Lint benchmark: compat-lint vs squawk on the same 2,000 migration files, in one run.
//
//   npm run build && node tools/bench-compat-lint/run.mjs [--runs 7] [--files 2000] [--baseline <cli.js>]
//
// The corpus is generated deterministically from compat-lint's test corpus
// (156 hand-written migrations, cycled with fresh timestamp prefixes) into
// .cache/bench-compat-lint/, so both tools read identical bytes. Each tool is
// timed end to end as users run it (process start, parser load, all files,
// output), alternating runs after one warm-up each; the table reports the
// median and the spread. Results go to tools/bench-compat-lint/RESULTS.md.
// --baseline times an older compat-lint build (its dist/cli.js) in the same
// alternating loop, so a before/after comparison shares the machine's load.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const runs = opt("runs", 7);
const baselineIdx = args.indexOf("--baseline");
const baseline = baselineIdx >= 0 ? args[baselineIdx + 1] : undefined;
const fileCount = opt("files", 2000);

const corpusSrc = join(root, "packages/compat-lint/test/corpus");
const sources = [];
for (const project of readdirSync(corpusSrc).sort()) {
  for (const f of readdirSync(join(corpusSrc, project)).sort()) {
    if (f.endsWith(".sql")) sources.push(readFileSync(join(corpusSrc, project, f), "utf8"));
  }
}
const outDir = join(root, ".cache/bench-compat-lint");
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const files = [];
for (let i = 0; i < fileCount; i++) {
  const name = `${1700000000000 + i * 1000}_m${String(i).padStart(4, "0")}.sql`;
  writeFileSync(join(outDir, name), sources[i % sources.length]);
  files.push(join(outDir, name));
}
const bytes = files.reduce((n, f) => n + readFileSync(f).length, 0);

const compatLint = [
  process.execPath,
  join(root, "packages/compat-lint/dist/cli.js"),
  "--format",
  "json",
  outDir,
];
const compatBase = baseline ? [process.execPath, baseline, "--format", "json", outDir] : undefined;
const squawkBin = join(root, "node_modules/.bin/squawk");
const squawk = [squawkBin, "--reporter", "json", ...files];

// CPU time (user + system) of waited-for children, from /proc/self/stat
// (Linux; fields cutime and cstime, in clock ticks, normally 100 per second).
// Less sensitive than wall time to other load on a shared machine.
function childCpuMs() {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
}

function time(cmd) {
  const c = childCpuMs();
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: "utf8", maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.error) throw r.error;
  return { ms, cpu: childCpuMs() - c, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const squawkVersion = spawnSync(squawkBin, ["--version"], { encoding: "utf8" }).stdout.trim();
const warmC = time(compatLint);
const warmS = time(squawk);
const warmB = compatBase ? time(compatBase) : undefined;
if (warmB && warmB.stdout !== warmC.stdout)
  throw new Error("baseline and current compat-lint disagree on output");
const findings = {
  compat: JSON.parse(warmC.stdout).diagnostics.length,
  squawk: (() => {
    try {
      return JSON.parse(warmS.stdout).length;
    } catch {
      return "n/a";
    }
  })(),
};
const samples = { compat: [], squawk: [], base: [] };
const cpu = { compat: [], squawk: [], base: [] };
const sample = (key, cmd) => {
  const r = time(cmd);
  samples[key].push(r.ms);
  cpu[key].push(r.cpu);
};
for (let i = 0; i < runs; i++) {
  sample("compat", compatLint);
  sample("squawk", squawk);
  if (compatBase) sample("base", compatBase);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => `${x.toFixed(0)} ms`;
const mc = median(samples.compat);
const ms = median(samples.squawk);
const row = (name, xs, cs, exit, found) =>
  `| ${name} | ${fmt(median(xs))} | ${fmt(Math.min(...xs))} – ${fmt(Math.max(...xs))} | ${fmt(median(cs))} | ${((fileCount / median(xs)) * 1000).toFixed(0)} | ${exit} | ${found} |`;

const md = `# compat-lint vs squawk: lint wall time

Before this round (2026-11-23 morning, same corpus, wall only): compat-lint 1322 ms vs squawk
424 ms (3.12x); the baseline row below is that build (commit 395f2e0, compiled into .cache/cl-before/) timed in
the same loop, so both share the machine's load (load average 4-6 on 2 cores during this run).

Generated by \`node tools/bench-compat-lint/run.mjs\` (after \`npm run build\`) on ${new Date().toISOString().slice(0, 10)}.
${fileCount} migration files (${(bytes / 1024).toFixed(0)} KiB), cycled from compat-lint's 156-file test corpus,
linted by both tools in the same run; ${runs} alternating timed runs after one warm-up each.
Wall time is end to end as a user runs it: process start, parser load, every file, JSON output.

| tool | median | min – max | CPU median | files/s | exit | findings |
|---|---|---|---|---|---|---|
${row(`compat-lint ${JSON.parse(readFileSync(join(root, "packages/compat-lint/package.json"), "utf8")).version}`, samples.compat, cpu.compat, warmC.status, findings.compat)}
${row(squawkVersion, samples.squawk, cpu.squawk, warmS.status, findings.squawk)}
${compatBase ? `${row(`compat-lint baseline (${baseline?.replace(`${root}/`, "")})`, samples.base, cpu.base, warmB?.status, findings.compat)}\n` : ""}
**compat-lint / squawk: ${(mc / ms).toFixed(2)}x** wall, ${(median(cpu.compat) / median(cpu.squawk)).toFixed(2)}x CPU (below 1 means compat-lint is faster).
${compatBase ? `**baseline / compat-lint: ${(median(samples.base) / mc).toFixed(2)}x** wall, ${(median(cpu.base) / median(cpu.compat)).toFixed(2)}x CPU (the speed-up over the baseline build).\n` : ""}
Machine: ${cpus()[0]?.model ?? "unknown CPU"} × ${cpus().length}, Node ${process.version}, ${process.platform}/${process.arch}.

Notes. The tools do different work: squawk checks each file on its own for lock-safety
patterns; compat-lint also replays all 2,000 files in migration order into one schema model
and judges every statement against it, so its findings (contract breaks relative to what
earlier files created) are ones squawk cannot produce. Both parse with the Postgres grammar
(squawk with its own Rust parser, compat-lint with libpg_query compiled to WASM). Findings
counts are not comparable rule for rule.

Where compat-lint's time goes now (2026-11-23, after the changes below; phases timed in-process
on this machine, medians of 5 cold runs, load average ~4 on 2 cores): Node boot ~95 ms (squawk's
npm launcher pays the same), importing libpg-query ~25 ms, WASM instantiate ~15 ms, the other
~48 compat-lint modules ~50 ms, reading 2,000 files ~25 ms, libpg_query parse + JSON.parse of the
ASTs ~100 ms (Liftoff, cold), rules + schema replay + directives + positions ~250 ms, JSON
output ~8 ms. A CPU profile puts a quarter of the parse in emscripten's setjmp/longjmp
\`invoke_*\` trampolines (PG_TRY inside the grammar bounces WASM -> JS -> WASM) and ~9% of all
CPU in GC (mostly the parsed ASTs).

Changes measured with \`--baseline\` (the build before them, same loop): (1) the CLI sets V8's
\`--liftoff-only\` before it imports libpg-query: by default V8 re-compiles the parser's huge
grammar function with TurboFan in the background, which a one-second run never earns back
(alone ~-35% wall, ~-30% CPU); (2) each file is UTF-8-encoded once instead of three times,
validated with the native \`buffer.isUtf8\`, line starts found with \`Buffer.indexOf\`, byte
offsets of ASCII text computed without \`Buffer.byteLength\`; (3) the file list is sorted by
keys computed once per file. CPU time exceeds wall time because V8 compiles and collects
garbage on a second thread; the baseline's extra CPU is mostly TurboFan compiling the WASM,
which on an idle second core costs little wall time. Tried and rejected:
\`--single-threaded-gc\` set at run time (looks 2x faster, but V8 aborts in a mark-compact:
GC flags cannot change after the heap exists), \`--no-wasm-lazy-compilation\` and
\`--no-liftoff\` (slower start), skipping statements no rule flags (replay needs them all).

The goal, "no slower than squawk", is not met. The floor of the current design is about
Node boot + module loading + WASM instantiate (~185 ms, more than half of squawk's whole run)
plus libpg_query's parse (~100 ms) before a single rule runs; squawk is one native binary.
What is left to try: bundle the CLI into one module (cuts most of the ~50 ms of module
loading; needs a bundler such as esbuild as a dev dependency), parse on a worker thread while
the main thread runs rules and replay for the previous file (on 2 idle cores at most ~25%
off the wall time, nothing off CPU; a worker pays its own ~40 ms WASM start), and trimming
allocation in rules/replay (\`ctx.find\` compiles a RegExp per finding).
`;
writeFileSync(join(root, "tools/bench-compat-lint/RESULTS.md"), md);
process.stdout.write(md);
