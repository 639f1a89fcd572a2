#!/usr/bin/env node
// Produces bin/compat-lint-main.cache, the V8 code cache that the bin's loader
// (bin/compat-lint.js) hands to vm.Script. Run by scripts/bundle.mjs right
// after it writes bin/compat-lint-main.js.
//
// V8 accepts a cache only under the V8 version and flags it was made with, so
// this compiles the script exactly as the loader does: same source, same flags.
// It then lints the package's test corpus and fixtures in every output format,
// silently, so that the functions a lint run calls have been compiled, and
// serializes them (createCachedData after execution includes them). The cache
// file starts with the script's build tag (its last line), so a cache left over
// from another build is never used.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { Script } from "node:vm";

setFlagsFromString("--liftoff-only");
setFlagsFromString("--no-opt");

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const mainPath = join(pkg, "bin/compat-lint-main.js");
const code = readFileSync(mainPath, "utf8");
const tag = code.slice(-17, -1);
if (!/^[0-9a-f]{16}$/.test(tag)) throw new Error(`${mainPath} does not end with a build tag`);
const script = new Script(code, { filename: mainPath });
const module = { exports: {} };
const mainUrl = new URL("../bin/compat-lint-main.js", import.meta.url);
script.runInThisContext()(module.exports, createRequire(mainUrl), module, mainUrl.href);

// Warm-up: every format over the test corpus and over the fixtures (syntax errors,
// bad bytes, directives), with the CLI's output discarded.
const corpus = join(pkg, "test/corpus");
const fixtures = join(pkg, "test/fixtures");
const paths = [
  ...readdirSync(corpus).map((p) => join(corpus, p)),
  ...readdirSync(fixtures, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".sql"))
    .map((f) => join(fixtures, f)),
];
const write = (stream) => {
  const original = stream.write;
  stream.write = (_chunk, encoding, cb) => {
    (typeof encoding === "function" ? encoding : cb)?.();
    return true;
  };
  return () => {
    stream.write = original;
  };
};
const restoreOut = write(process.stdout);
const restoreErr = write(process.stderr);
try {
  for (const format of ["json", "text", "github", "sarif"]) {
    await module.exports.main(["--format", format, ...paths]);
  }
} finally {
  restoreOut();
  restoreErr();
}
const data = script.createCachedData();
writeFileSync(join(pkg, "bin/compat-lint-main.cache"), Buffer.concat([Buffer.from(tag, "latin1"), data]));
