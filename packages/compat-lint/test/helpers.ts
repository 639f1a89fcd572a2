import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type LintResult, lintSources, type SourceInput } from "@cutover/compat-lint";

export const fixturesDir = fileURLToPath(new URL("./fixtures/", import.meta.url));
export const packageDir = fileURLToPath(new URL("../", import.meta.url));
export const repoDir = fileURLToPath(new URL("../../../", import.meta.url));

/** The shared schema rule fixtures run against, replayed outside the change set. */
export const base: SourceInput = {
  path: "base.sql",
  content: readFileSync(`${fixturesDir}rules/base.sql`),
  inChangeSet: false,
};

/**
 * Lints `sql` as the change set on top of the base schema; with `previous`, as a file that had
 * that content at the `--since` ref "main" (edited-migration compares the two).
 */
export function lintOnBase(
  sql: string | Buffer,
  path = "change.sql",
  previous?: string | Buffer,
): Promise<LintResult> {
  const change: SourceInput = { path, content: sql, inChangeSet: true };
  if (previous !== undefined) change.previous = { content: previous, ref: "main" };
  return lintSources([base, change], { changeSet: "inputs" });
}

/** Lints one file on its own (it is its own change set). */
export function lintOne(sql: string | Buffer, path = "one.sql"): Promise<LintResult> {
  return lintSources([{ path, content: sql, inChangeSet: true }]);
}

export function ids(result: LintResult, severity?: string): string[] {
  return result.diagnostics
    .filter((d) => severity === undefined || d.severity === severity)
    .map((d) => d.ruleId);
}
