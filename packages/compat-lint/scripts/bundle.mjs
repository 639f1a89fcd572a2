#!/usr/bin/env node
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// Bundles the CLI into bin/ (the package's `bin`), straight from src/ with esbuild:
//
//   bin/compat-lint.js          the bin: a small loader (in git, not built)
//   bin/compat-lint-main.js     src/cli/main.ts and everything it imports, as one
//                               CommonJS function script, ending in a build tag
//   bin/compat-lint-main.cache  V8's code cache for it (scripts/code-cache.mjs)
//
// Why: Node's ESM loader resolves, reads and compiles ~50 small modules one by
// one, which cost ~20-30 ms of a ~300 ms lint run (tools/bench-compat-lint);
// one file loads in a fraction of that, and with the code cache V8 skips
// parsing and compiling the functions a run calls. The cache is optional: the
// loader compiles from source when it is missing or rejected, so a failure to
// produce it is a warning, not a failed build. The library entry
// (dist/index.js, from tsc) stays unbundled. Root `npm run build` runs this
// after `tsc -b`; the CLI tests run it too, so they always exercise the sources
// they sit next to.
import { build } from "esbuild";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(pkg, "bin");
const cachePath = join(bin, "compat-lint-main.cache");
mkdirSync(bin, { recursive: true });
// Never leave a cache next to a script it was not made for (the loader checks the tag too).
rmSync(cachePath, { force: true });

// The rule docs ship inside the package (its `files` lists "docs"), at the same relative path
// as in the repository, docs/compat-lint/: SARIF output embeds each rule's page and links to it
// on a CDN that serves published packages (src/format/rule-docs.ts). Copied, not kept twice in git.
const repoDocs = join(pkg, "../../docs/compat-lint");
if (existsSync(repoDocs)) {
  rmSync(join(pkg, "docs"), { recursive: true, force: true });
  cpSync(repoDocs, join(pkg, "docs/compat-lint"), { recursive: true });
}

const result = await build({
  absWorkingDir: pkg,
  entryPoints: ["src/cli/main.ts"],
  bundle: true,
  write: false,
  // Dependencies (libpg-query) stay in node_modules, loaded as installed.
  packages: "external",
  platform: "node",
  format: "cjs",
  target: "node20",
  tsconfig: "tsconfig.json",
  // The loader passes the script's URL (src/ uses import.meta.url to find libpg-query and package.json).
  define: { "import.meta.url": "__compatLintUrl" },
  legalComments: "none",
  logLevel: "warning",
});
const body = `(function (exports, require, module, __compatLintUrl) {\n${result.outputFiles[0].text}})\n`;
const tag = createHash("sha256").update(body).digest("hex").slice(0, 16);
writeFileSync(join(bin, "compat-lint-main.js"), `${body}// build ${tag}\n`);

const cache = spawnSync(process.execPath, [join(pkg, "scripts/code-cache.mjs")], { encoding: "utf8" });
if (cache.status !== 0) {
  rmSync(cachePath, { force: true });
  process.stderr.write(
    `compat-lint bundle: no code cache (the CLI works without it, slower to start):\n${cache.stderr}`,
  );
}
