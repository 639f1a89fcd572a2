import { readdirSync, readFileSync } from "node:fs";
import { type LintResult, lint, type Rule, rules } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";
import { fixturesDir, lintOnBase } from "./helpers.js";

/**
 * The linter calls a rule only for the statements its `kinds` list names
 * (Rule.kinds; for ALTER TABLE, per command subtype). A list that is too
 * narrow would silently drop findings, so this lints every fixture and the
 * whole corpus twice, with the lists and with every rule called for every
 * statement, and expects the same diagnostics.
 */
const corpusDir = new URL("./corpus/", import.meta.url).pathname;

async function everything(): Promise<LintResult[]> {
  const out: LintResult[] = [];
  for (const rule of rules) {
    for (const f of ["bad.sql", "good.sql"]) {
      const path = `${fixturesDir}rules/${rule.id}/${f}`;
      out.push(await lintOnBase(readFileSync(path), `${rule.id}/${f}`));
    }
  }
  for (const d of readdirSync(corpusDir, { withFileTypes: true })) {
    if (d.isDirectory()) out.push(await lint({ paths: [`${corpusDir}${d.name}`], cwd: corpusDir }));
  }
  return out;
}

describe("rule dispatch by statement kind", () => {
  it("every rule declares the statements it handles", () => {
    for (const rule of rules) expect(rule.kinds, rule.id).toBeDefined();
  });

  it("reports exactly what calling every rule on every statement reports", async () => {
    const dispatched = await everything();
    const saved = rules.map((r) => r.kinds);
    let undispatched: LintResult[];
    try {
      for (const r of rules) (r as Rule).kinds = undefined;
      undispatched = await everything();
    } finally {
      rules.forEach((r, i) => {
        (r as Rule).kinds = saved[i];
      });
    }
    const strip = (rs: LintResult[]) => rs.map((r) => r.diagnostics);
    expect(strip(dispatched)).toEqual(strip(undispatched));
    expect(dispatched.flatMap((r) => r.diagnostics).length).toBeGreaterThan(150);
  });
});
