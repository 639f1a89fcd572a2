// The verdict snapshot of a real-world corpus (test/corpus-real/<project>/verdicts.txt), shared
// by the mechanical reviewer (review-corpus.mjs) and the corpus test. One line per contract
// error compat-lint reports: file:line:col, rule id, verdict, reason, tab-separated. Verdicts:
// "right" (the change breaks what the rule says), "wrong" (a false positive, kept listed as
// known until fixed), "wrong?" (unreviewed: the test fails until someone decides).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** The path argument that lints the corpus in `dir` (cwd = dir): its migrations folder, or its folders. */
export function corpusGlob(dir) {
  const m = join(dir, "migrations");
  const nested = readdirSync(m).some((e) => statSync(join(m, e)).isDirectory());
  return nested ? "migrations/*/*.sql" : "migrations";
}

/** A finding's identity in the snapshot. */
export function findingKey(d) {
  return `${d.file}:${d.start.line}:${d.start.column}\t${d.ruleId}`;
}

export function verdictLine(key, verdict, reason) {
  return `${key}\t${verdict}\t${reason.replace(/[\t\n]/g, " ")}`;
}

/** key -> { verdict, reason } from dir/verdicts.txt (empty when there is none). */
export function readVerdicts(dir) {
  const path = join(dir, "verdicts.txt");
  const out = new Map();
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    const [where, rule, verdict, ...reason] = line.split("\t");
    out.set(`${where}\t${rule}`, { verdict, reason: reason.join(" ") });
  }
  return out;
}
