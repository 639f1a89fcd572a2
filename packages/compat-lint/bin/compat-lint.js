#!/usr/bin/env node
// The package's bin. It is kept in git (the rest of bin/ is built), so npm
// links it at install time even in a fresh checkout of this repository,
// before `npm run build` has produced the bundle it runs.
//
// It sets the CLI's V8 flags, then runs the bundled CLI (bin/compat-lint-main.js,
// a CommonJS function script) through vm.Script with the V8 code cache that the
// build produced for it (bin/compat-lint-main.cache, scripts/code-cache.mjs).
// With the cache, V8 deserializes the bytecode of every function a lint run
// uses instead of parsing and compiling them on first call.
//
// The cache is an optimization only: when it is missing, belongs to another
// build (its header must carry the tag at the end of the script), or V8
// rejects it (another Node version or other V8 flags), the script compiles
// from source as it would without it, with the same output.
//
// This file is CommonJS (bin/package.json says so; the package itself is ESM): an
// ES module entry makes Node load its ESM loader first (resolve, load and
// translators, which load fs/promises, readline and fs watchers with them), ~10 ms
// of CPU per run that a CommonJS entry does not pay (tools/bench-compat-lint/RESULTS-real.md).
const { existsSync, readFileSync } = require("node:fs");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");
const { setFlagsFromString } = require("node:v8");
const { Script } = require("node:vm");

// The same flags as src/cli.ts (see the reasons there): Liftoff only for the
// parser's WASM, no TurboFan for the linter's JavaScript. They are set before
// the script is compiled; the code cache was produced under the same flags.
setFlagsFromString("--liftoff-only");
setFlagsFromString("--no-opt");

const mainPath = join(__dirname, "compat-lint-main.js");
if (!existsSync(mainPath)) {
  // Only in a checkout of the sources: the published package ships the bundle.
  process.stderr.write(`compat-lint: not built: ${mainPath} is missing; run \`npm run build\` first\n`);
  process.exit(2);
}
const code = readFileSync(mainPath, "utf8");
// The script ends with "// build <16 hex digits>\n"; the cache starts with the same 16 characters.
const tag = code.slice(-17, -1);
let cachedData;
try {
  const cache = readFileSync(join(__dirname, "compat-lint-main.cache"));
  if (cache.length > 16 && cache.toString("latin1", 0, 16) === tag) cachedData = cache.subarray(16);
} catch {
  // No cache: compile from source.
}
const script = new Script(code, { filename: mainPath, cachedData });
const main = { exports: {} };
script.runInThisContext()(main.exports, require, main, pathToFileURL(mainPath).href);
main.exports.main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (err) => {
    process.stderr.write(`compat-lint: internal error: ${err?.message ?? String(err)}\n`);
    process.exitCode = 2;
  },
);
