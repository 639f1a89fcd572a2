#!/usr/bin/env node
// Byte-identity check for speed work: runs a baseline compat-lint bin and the current one over
// the bench's corpora and compares what they print, in every format, with both parsers.
//
//   npm run build && node tools/bench-compat-lint/same-output.mjs <baseline bin/compat-lint.js>
//
// The baseline is a copy of an earlier build's packages/compat-lint/{package.json,docs,bin}
// placed inside this checkout (e.g. .cache/base-pkg/), so it resolves libpg-query and its
// docs as the package does. Corpora: the real-world one and the generated one as run.mjs lays
// them out (one folder, renamed in order), both vendored corpora as they are laid out, and the
// hand-written test corpus. stdout, stderr and the exit code must be equal; exit 1 otherwise.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const baseline = process.argv[2];
if (!baseline) {
  console.error("usage: node tools/bench-compat-lint/same-output.mjs <baseline bin/compat-lint.js>");
  process.exit(2);
}
const current = join(root, "packages/compat-lint/bin/compat-lint.js");
const test = join(root, "packages/compat-lint/test");

const sqlFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) =>
      e.isDirectory() ? sqlFiles(join(dir, e.name)) : e.name.endsWith(".sql") ? [join(dir, e.name)] : [],
    );
// As run.mjs builds them: every file of each project once (real), or cycled to 2,000 (generated).
const layOut = (name, src, count) => {
  const sources = [];
  for (const p of readdirSync(src, { withFileTypes: true }).filter((d) => d.isDirectory()))
    for (const f of sqlFiles(join(src, p.name))) sources.push(readFileSync(f, "utf8"));
  const out = join(root, ".cache/same-output", name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const n = count ?? sources.length;
  for (let i = 0; i < n; i++)
    writeFileSync(
      join(out, `${1700000000000 + i * 1000}_m${String(i).padStart(4, "0")}.sql`),
      sources[i % sources.length],
    );
  return out;
};
const corpora = [
  layOut("real", join(test, "corpus-real")),
  layOut("generated", join(test, "corpus"), 2000),
  join(test, "corpus-real/langfuse"),
  join(test, "corpus-real/kratos"),
  join(test, "corpus"),
];

let differences = 0;
let runs = 0;
for (const parser of ["native", "wasm"]) {
  const env = { ...process.env, COMPAT_LINT_PARSER: parser };
  for (const corpus of corpora) {
    for (const format of ["json", "text", "sarif", "github"]) {
      const run = (bin) =>
        spawnSync(process.execPath, [resolve(bin), "--format", format, corpus], {
          encoding: "utf8",
          env,
          maxBuffer: 1 << 30,
        });
      const a = run(baseline);
      const b = run(current);
      runs++;
      if (a.stdout !== b.stdout || a.stderr !== b.stderr || a.status !== b.status) {
        differences++;
        console.log(`DIFFERENT: ${parser} ${format} ${corpus} (exit ${a.status} vs ${b.status})`);
      }
    }
  }
}
console.log(differences === 0 ? `same output in all ${runs} runs` : `${differences} of ${runs} runs differ`);
process.exitCode = differences === 0 ? 0 : 1;
