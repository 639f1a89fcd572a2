#!/usr/bin/env node
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// Bundles the CLI into bin/compat-lint.js (the package's `bin`), straight from
// src/ with esbuild.
//
// Why: Node's ESM loader resolves, reads and compiles ~50 small modules one by
// one, which cost ~20-30 ms of a ~300 ms lint run (tools/bench-compat-lint);
// one file loads in a fraction of that. The library entry (dist/index.js, from
// tsc) stays unbundled. Root `npm run build` runs this after `tsc -b`; the CLI
// tests run it too, so they always exercise the sources they sit next to.
import { build } from "esbuild";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");

await build({
  absWorkingDir: pkg,
  entryPoints: { "compat-lint": "src/cli.ts" },
  outdir: "bin",
  bundle: true,
  // Dependencies (libpg-query) stay in node_modules, loaded as installed.
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  tsconfig: "tsconfig.json",
  legalComments: "none",
  logLevel: "warning",
});
