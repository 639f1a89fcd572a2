import { readFileSync } from "node:fs";
import { join } from "node:path";
import { lint } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";
import { corpusGlob, findingKey, readVerdicts } from "../scripts/corpus-verdicts.mjs";
import { repoDir } from "./helpers.js";

/**
 * The real-world corpora (test/corpus-real/<project>, vendored by vendor.sh): every contract
 * error compat-lint reports on them has a reviewed verdict in <project>/verdicts.txt
 * (scripts/review-corpus.mjs writes them from a real Postgres replay). A new finding, a vanished
 * one or an unreviewed verdict fails here until the snapshot is reviewed again; the precision
 * published in docs/compat-lint/README.md must be the snapshot's.
 */
const root = new URL("./corpus-real/", import.meta.url).pathname;
const projects = ["kratos", "langfuse"];
const docs = readFileSync(join(repoDir, "docs/compat-lint/README.md"), "utf8");

describe("real-world corpus", () => {
  it.each(projects)("%s: every contract error has its reviewed verdict", async (project) => {
    const dir = join(root, project);
    const result = await lint({ paths: [corpusGlob(dir)], cwd: dir });
    expect(result.exitCode).toBeLessThan(2);
    const found = result.diagnostics
      .filter((d) => d.severity === "error")
      .map((d) => findingKey(d))
      .sort();
    const verdicts: Map<string, { verdict: string; reason: string }> = readVerdicts(dir);
    expect(found).toEqual([...verdicts.keys()].sort());
    for (const [key, v] of verdicts) {
      expect(`${key} ${v.verdict}`).toMatch(/ (right|wrong)$/);
      expect(v.reason.length, key).toBeGreaterThan(10);
    }
    const right = [...verdicts.values()].filter((v) => v.verdict === "right").length;
    const pct = verdicts.size ? ((100 * right) / verdicts.size).toFixed(1) : "100.0";
    expect(docs).toContain(`| ${project} | ${verdicts.size} | ${right} | ${pct}% |`);
  });
});
