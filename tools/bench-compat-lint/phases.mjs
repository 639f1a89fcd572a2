#!/usr/bin/env node
// Where a compat-lint run spends its time, phase by phase, on the benchmark
// corpus (run run.mjs first: it writes .cache/bench-compat-lint/).
//
//   npm run build && node tools/bench-compat-lint/phases.mjs [--runs 9]
//
// Each sample is a fresh process (cold, as users run the CLI) with the CLI's
// V8 flags, driving the compiled modules in dist/ the way the CLI does. Two
// kinds of process alternate: one lints (boot, modules, collect, read, parser
// wait, lint, JSON output), the other only parses every file and times the
// WASM parser and the JSON decoding of its results separately, so that
// "rules, replay and the rest" = lint - parse. Prints medians.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const runsIdx = args.indexOf("--runs");
const runs = runsIdx >= 0 ? Number(args[runsIdx + 1]) : 9;
const corpus = join(root, ".cache/bench-compat-lint");
const dist = join(root, "packages/compat-lint/dist");

// The child: `node phases.mjs --child lint|parse`.
if (args[0] === "--child") {
  const { setFlagsFromString } = await import("node:v8");
  // The CLI's flags (src/cli.ts).
  setFlagsFromString("--liftoff-only");
  setFlagsFromString("--no-opt");
  const t = [["start", performance.now()]];
  const mark = (name) => t.push([name, performance.now()]);
  const { collectFiles, readFiles } = await import(`${dist}/engine/files.js`);
  const { lintSources } = await import(`${dist}/engine/lint-sources.js`);
  const { formatJson } = await import(`${dist}/format/json.js`);
  const parser = await import(`${dist}/parse/parser.js`);
  const { parseUtf8Safe } = await import(`${dist}/parse/backend.js`);
  const { SourceText } = await import(`${dist}/parse/source.js`);
  const { upSection } = await import(`${dist}/parse/migration-file.js`);
  mark("modules");
  const ready = parser.initParser();
  const files = collectFiles([corpus], root);
  mark("collect");
  // As src/engine/lint-files.ts reads them: bytes, into shared buffers.
  const read = readFiles(files);
  const inputs = files.map((f, i) => ({
    path: f,
    content: read[i].ok ? read[i].bytes : Buffer.alloc(0),
    inChangeSet: true,
  }));
  mark("read");
  await ready;
  mark("parserWait");
  const out = {};
  if (args[1] === "lint") {
    const result = await lintSources(inputs, {});
    mark("lint");
    formatJson(result, "0");
    mark("output");
  } else {
    let wasm = 0;
    let decode = 0;
    for (const input of inputs) {
      const source = new SourceText(input.content.toString("utf8"), input.content);
      const section = upSection(source.text);
      const request = parser.parseRequest(source, section.start, section.end);
      if (request.done) continue;
      const a = performance.now();
      const raw = parseUtf8Safe(request.bytes, request.text);
      const b = performance.now();
      parser.finishParse(source, request, raw);
      decode += performance.now() - b;
      wasm += b - a;
    }
    out.parseWasm = wasm;
    out.parseJson = decode;
  }
  out.boot = t[0][1];
  for (let i = 1; i < t.length; i++) out[t[i][0]] = t[i][1] - t[i - 1][1];
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

const samples = {};
const add = (o) => {
  for (const [k, v] of Object.entries(o)) {
    samples[k] ??= [];
    samples[k].push(v);
  }
};
for (let i = 0; i < runs; i++) {
  for (const kind of ["lint", "parse"]) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", kind], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(r.stderr);
    const o = JSON.parse(r.stdout);
    if (kind === "parse") add({ parseWasm: o.parseWasm, parseJson: o.parseJson });
    else add(o);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
m.rulesReplayRest = m.lint - m.parseWasm - m.parseJson;
const rows = [
  ["Node boot (process start to first line of the script)", m.boot],
  ["loading compat-lint's modules (unbundled dist/ here)", m.modules],
  ["collecting the file list (+ loading the parser: native, or starting the WASM compile)", m.collect],
  ["reading the files", m.read],
  ["waiting for the parser to be ready (WASM instantiation; ~0 native)", m.parserWait],
  ["lint: libpg_query parse (native or WASM, as COMPAT_LINT_PARSER)", m.parseWasm],
  ["lint: decoding the parse trees (JSON.parse) and statement ranges", m.parseJson],
  ["lint: rules, schema replay, directives, positions, GC", m.rulesReplayRest],
  ["JSON output", m.output],
];
process.stdout.write(`phase medians over ${runs} cold runs of each kind (ms):\n`);
for (const [name, v] of rows) process.stdout.write(`  ${v.toFixed(1).padStart(7)}  ${name}\n`);
