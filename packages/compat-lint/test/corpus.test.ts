import { readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { lint } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";

/**
 * The corpus: realistic migration histories, one folder per project, each
 * file carrying its expected verdict in its first line:
 *   -- expect: clean | syntax-error | <rule-id>[, <rule-id>...]
 * listing the rule ids reported as errors (warnings and allowed findings do
 * not count). Each folder is linted the way CI lints ours: replayed in
 * migration order, each file its own change set.
 */
const corpusDir = new URL("./corpus/", import.meta.url).pathname;
const projects = readdirSync(corpusDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

function expected(path: string): string[] {
  const first = readFileSync(path, "utf8").split("\n", 1)[0] ?? "";
  const m = /^-- expect: (.+)$/.exec(first.trim());
  if (!m) throw new Error(`${path}: first line must be "-- expect: ..."`);
  const v = m[1]!.trim();
  return v === "clean" ? [] : [...new Set(v.split(/\s*,\s*/))].sort();
}

describe("corpus", () => {
  it("has at least 150 migrations", () => {
    const n = projects.reduce(
      (sum, p) => sum + readdirSync(`${corpusDir}${p}`).filter((f) => f.endsWith(".sql")).length,
      0,
    );
    expect(n).toBeGreaterThanOrEqual(150);
  });

  it.each(projects)("%s: every file gets its expected verdict", async (project) => {
    const dir = `${corpusDir}${project}`;
    const result = await lint({ paths: [dir], cwd: corpusDir });
    const files = readdirSync(dir).filter((f) => f.endsWith(".sql"));
    const actual: Record<string, string[]> = {};
    const want: Record<string, string[]> = {};
    for (const f of files) {
      want[f] = expected(`${dir}/${f}`);
      actual[f] = [
        ...new Set(
          result.diagnostics
            .filter((d) => basename(d.file) === f && d.severity === "error")
            .map((d) => d.ruleId),
        ),
      ].sort();
    }
    expect(actual).toEqual(want);
    const worst = Object.values(want).some((v) => v.includes("syntax-error"))
      ? 2
      : Object.values(want).some((v) => v.length > 0)
        ? 1
        : 0;
    expect(result.exitCode).toBe(worst);
  });
});
