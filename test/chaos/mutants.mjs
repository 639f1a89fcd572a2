#!/usr/bin/env node
// Builds a mutant of the built library with one safeguard removed, to show
// that the chaos scenario guarding it fails (RELIABILITY.md, "Each scenario
// can fail"). Usage:
//   node test/chaos/mutants.mjs <mutant>    then run the printed command.
// Nothing in packages/ is touched: the mutant is a copy under test/chaos/.mutants/.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "..", "packages", "outbox", "dist");

const MUTANTS = {
  // Releases and completions no longer check that the row is still mine.
  "no-fence": {
    file: "consumer/sql.js",
    edits: [
      [
        "AND status = 'in_flight' AND claimed_by = $3\nRETURNING id::text AS id",
        "AND status = 'in_flight' AND $3::text IS NOT NULL\nRETURNING id::text AS id",
      ],
      [
        "AND o.status = 'in_flight' AND o.claimed_by = $7",
        "AND o.status = 'in_flight' AND $7::text IS NOT NULL",
      ],
    ],
    scenario: "test/chaos/crash.test.ts test/chaos/database.test.ts -t 'SIGSTOP|stalled'",
  },
  // The reaper sweeps in-flight rows of every generation.
  "reaper-any-generation": {
    file: "consumer/sql.js",
    edits: [
      [
        "WHERE o.generation = $1 AND o.status = 'in_flight'\n    AND (o.lease_expires_at",
        "WHERE $1::int IS NOT NULL AND o.status = 'in_flight'\n    AND (o.lease_expires_at",
      ],
      [
        "WHERE o.id = r.id AND o.generation = $1 AND o.status = 'in_flight'",
        "WHERE o.id = r.id AND $1::int IS NOT NULL AND o.status = 'in_flight'",
      ],
    ],
    scenario: "test/chaos/deploy.test.ts -t rolling",
  },
  // Claims take pending rows of any generation.
  "claim-any-generation": {
    file: "consumer/sql.js",
    edits: [
      [
        "WHERE o.generation = $1 AND o.status = 'pending'",
        "WHERE $1::int IS NOT NULL AND o.status = 'pending'",
      ],
    ],
    scenario: "test/chaos/deploy.test.ts -t rolling",
  },
  // A (handler, key) already in event_handled runs again instead of being skipped.
  "no-dedupe": {
    file: "consumer/chunk/chunk.js",
    edits: [["if (!this.fresh.delete(k)) {", "if (!this.fresh.delete(k) && false) {"]],
    // A SIGKILLed worker's transaction rolls back with its event_handled rows,
    // so only a zombie whose transaction commits late exercises the dedupe.
    scenario: "test/chaos/crash.test.ts test/chaos/database.test.ts -t 'SIGSTOP|stalled'",
  },
  // The claim's synchronous_commit = off outlives its transaction: it stays
  // on the pooled connection, so later chunk COMMITs on it are asynchronous
  // too, and the premise of "Asynchronous claim commits" (docs/guarantees.md:
  // the chunk's synchronous COMMIT flushes the WAL past the claim) is gone.
  "claim-async-session": {
    file: "consumer/sql.js",
    edits: [
      ["set_config('synchronous_commit', 'off', true)", "set_config('synchronous_commit', 'off', false)"],
    ],
    scenario: "test/chaos/server-crash.test.ts",
  },
  // The consumer's sessions lose idle_in_transaction_session_timeout (both
  // the pool's startup parameter and the chunk's set_config): a frozen
  // worker's chunk transaction stays open, its locked rows are never reaped.
  "unbounded-sessions": {
    file: "consumer/sql.js",
    edits: [
      [
        "set_config('idle_in_transaction_session_timeout', $6, true)",
        "set_config('cutover.mutant', $6, true)",
      ],
    ],
    also: [
      { file: "consumer/consumer.js", edits: [["idle_in_transaction_session_timeout: b.sessionMs,", ""]] },
    ],
    scenario: "test/chaos/freeze.test.ts -t 'SIGSTOP mid-chunk'",
  },
  // A chunk lost to its connection charges an attempt, as before issue 15.
  "charge-lost-connections": {
    file: "consumer/outcome.js",
    edits: [
      ['if (failure.by === "infrastructure" || failure.by === "shutdown")', 'if (failure.by === "shutdown")'],
    ],
    scenario: "test/chaos/freeze.test.ts -t 'killed over and over'",
  },
};

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
const out = join(here, ".mutants", name);
rmSync(out, { recursive: true, force: true });
cpSync(dist, out, { recursive: true });
// The library finds its migrations at ../migrations from its own files.
cpSync(join(here, "..", "..", "migrations"), join(here, ".mutants", "migrations"), { recursive: true });
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
