#!/usr/bin/env node
// `prepack` of every published package (npm runs it in the package's folder
// before `npm pack` / `npm publish`): copies the repo's docs that belong to the
// package into its docs/ (git-ignored), so the README's links resolve inside
// the installed tarball, and refuses to pack what was not built, so a tarball
// never ships without the JavaScript its `exports` and `bin` point at.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";

const pkgDir = process.cwd();
const root = join(import.meta.dirname, "..", "..");
const { name } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));

/** Repo docs (relative to docs/) each package ships under its own docs/. */
const DOCS = {
  "@cutover/outbox": ["library.md", "guarantees.md", "schema.sql"],
  "@cutover/worker": ["worker.md", "operations.md", "relays"],
  "@cutover/compat-lint": ["compat-lint"],
};
/** Built files without which the package does not work. */
const BUILT = {
  "@cutover/outbox": ["dist/index.js", "dist/index.d.ts", "dist/internal.js", "dist/internal.d.ts"],
  "@cutover/worker": ["dist/cli.js", "dist/index.js", "dist/index.d.ts"],
  "@cutover/compat-lint": ["dist/index.js", "dist/index.d.ts", "bin/compat-lint-main.js"],
};

if (!DOCS[name]) {
  console.error(`prepack: no docs mapping for ${name}; add it to tools/pack/prepack.mjs`);
  process.exit(1);
}
const missing = BUILT[name].filter((f) => !existsSync(join(pkgDir, f)));
if (missing.length > 0) {
  console.error(`prepack: ${name} is not built (missing ${missing.join(", ")}); run \`npm run build\` first`);
  process.exit(1);
}
const out = join(pkgDir, "docs");
rmSync(out, { recursive: true, force: true });
for (const rel of DOCS[name]) {
  const from = join(root, "docs", rel);
  // Same relative path as in the repository: compat-lint reads docs/compat-lint/rules/*.md at run
  // time (SARIF help text), so its folder keeps its name.
  const to = join(out, rel);
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true });
}
