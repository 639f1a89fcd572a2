#!/usr/bin/env node
// The floor under any linter built like compat-lint: a cold Node process that
// loads libpg_query (the parser compat-lint would use: native when libpg-query-native is
// installed, else WASM, or as COMPAT_LINT_PARSER says; dist/parse/backend.js),
// reads every .sql file in a folder, parses each and decodes the parse tree
// with JSON.parse, and does nothing else: no rules, no schema replay, no
// output. run.mjs times it in the same loop as compat-lint and squawk, so the
// table shows how much of compat-lint's time is the parser pipeline the issue
// prescribes (libpg_query) and how much is compat-lint's own work.
//
//   node tools/bench-compat-lint/parse-floor.mjs <folder>
import { setFlagsFromString } from "node:v8";

// The CLI's V8 flags (packages/compat-lint/bin/compat-lint.js).
setFlagsFromString("--liftoff-only");
setFlagsFromString("--no-opt");

const { readdirSync } = await import("node:fs");
const { join } = await import("node:path");
const dist = new URL("../../packages/compat-lint/dist/", import.meta.url);
const { loadParser, parseUtf8Safe } = await import(new URL("parse/backend.js", dist).href);
const { readFiles } = await import(new URL("engine/files.js", dist).href);
const { upSection } = await import(new URL("parse/migration-file.js", dist).href);

const dir = process.argv[2];
const ready = loadParser();
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".sql"))
  .sort()
  .map((f) => join(dir, f));
const contents = readFiles(files);
await ready;
let statements = 0;
for (const c of contents) {
  if (!c.ok) continue;
  // Like compat-lint, only the Up section of a file with -- Up/Down Migration markers.
  const text = c.bytes.toString("utf8");
  const { start, end } = upSection(text);
  const r = parseUtf8Safe(start === 0 && end === text.length ? c.bytes : Buffer.from(text.slice(start, end)));
  if (r.ok) statements += JSON.parse(r.json).stmts?.length ?? 0;
}
process.stdout.write(`${files.length} files, ${statements} statements\n`);
