#!/usr/bin/env node
// Builds a mutant of the built library with one safeguard removed, to show
// that the chaos scenario guarding it fails (RELIABILITY.md, "Each scenario
// can fail"). Usage:
//   node test/chaos/mutants.mjs <mutant>    then run the printed command.
// Nothing in packages/ is touched: the mutant is a copy under test/chaos/.mutants/.
import { cpSync, existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MUTANTS } from "./mutants-list.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "..", "packages", "outbox", "dist");

const name = process.argv[2];
const m = MUTANTS[name];
if (!m) {
  process.stderr.write(`usage: node test/chaos/mutants.mjs <${Object.keys(MUTANTS).join("|")}>\n`);
  process.exit(2);
}
if (!existsSync(join(dist, "index.js"))) {
  process.stderr.write("build first: npx tsc -b\n");
  process.exit(2);
}
// CHAOS_MUTANTS_DIR: where the copies go (default test/chaos/.mutants).
const root = process.env.CHAOS_MUTANTS_DIR ?? join(here, ".mutants");
const out = join(root, name);
rmSync(out, { recursive: true, force: true });
cpSync(dist, out, { recursive: true });
// The library finds its migrations at ../migrations from its own files. The
// repo's top-level migrations/ is a symlink: copy the real folder's files, so
// a second run (or a copy left behind) never copies a link onto its target.
const migrations = join(root, "migrations");
rmSync(migrations, { recursive: true, force: true });
cpSync(realpathSync(join(here, "..", "..", "packages", "outbox", "migrations")), migrations, {
  recursive: true,
  dereference: true,
});
for (const part of [{ file: m.file, edits: m.edits }, ...(m.also ?? [])]) {
  const file = join(out, part.file);
  let text = readFileSync(file, "utf8");
  for (const [from, to] of part.edits) {
    if (!text.includes(from)) {
      process.stderr.write(
        `mutant ${name}: ${part.file} no longer contains ${JSON.stringify(from)}; update mutants.mjs\n`,
      );
      process.exit(1);
    }
    text = text.replaceAll(from, to);
  }
  writeFileSync(file, text);
}
process.stdout.write(`CHAOS_OUTBOX_DIST=${out} npx vitest run --project chaos ${m.scenario}\n`);
