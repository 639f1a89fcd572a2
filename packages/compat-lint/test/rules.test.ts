import { existsSync, readdirSync, readFileSync } from "node:fs";
import { formatJson, formatText, rules } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";
import { fixturesDir, lintOnBase, repoDir } from "./helpers.js";

const docsDir = `${repoDir}docs/compat-lint/`;

describe("every rule is documented and has fixtures", () => {
  it("has a docs page, good and bad fixtures, and a line in the docs index", () => {
    const index = readFileSync(`${docsDir}README.md`, "utf8");
    for (const rule of rules) {
      expect(existsSync(`${docsDir}rules/${rule.id}.md`), `docs page for ${rule.id}`).toBe(true);
      expect(existsSync(`${fixturesDir}rules/${rule.id}/bad.sql`), `bad fixture for ${rule.id}`).toBe(true);
      expect(existsSync(`${fixturesDir}rules/${rule.id}/good.sql`), `good fixture for ${rule.id}`).toBe(true);
      expect(index, `docs index lists ${rule.id}`).toContain(`rules/${rule.id}.md`);
    }
  });

  it("has no docs page or fixture directory for a rule that does not exist", () => {
    const known = new Set(rules.map((r) => r.id));
    for (const f of readdirSync(`${docsDir}rules`)) expect(known, f).toContain(f.replace(/\.md$/, ""));
    for (const d of readdirSync(`${fixturesDir}rules`, { withFileTypes: true })) {
      if (d.isDirectory()) expect(known, d.name).toContain(d.name);
    }
  });

  it("uses unique kebab-case ids", () => {
    const ids = rules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });
});

describe.each(rules.map((r) => [r.id, r] as const))("%s", (id, rule) => {
  const dir = `${fixturesDir}rules/${id}/`;
  // edited-migration's fixtures are edits of previous.sql, the file as the --since ref had it.
  const previous = existsSync(`${dir}previous.sql`) ? readFileSync(`${dir}previous.sql`) : undefined;

  it("flags every statement of its bad fixture", async () => {
    const result = await lintOnBase(readFileSync(`${dir}bad.sql`), `${id}/bad.sql`, previous);
    expect(result.diagnostics.filter((d) => d.category === "syntax")).toEqual([]);
    const mine = result.diagnostics.filter((d) => d.ruleId === id);
    expect(mine.length).toBeGreaterThan(0);
    for (const d of mine) expect(d.category).toBe(rule.category);
    await expect(formatText(result)).toMatchFileSnapshot(`__snapshots__/rules/${id}.txt`);
    await expect(formatJson(result, "0.0.0-test")).toMatchFileSnapshot(`__snapshots__/rules/${id}.json`);
  });

  it("stays silent on its good fixture", async () => {
    const result = await lintOnBase(readFileSync(`${dir}good.sql`), `${id}/good.sql`, previous);
    expect(result.diagnostics.filter((d) => d.category === "syntax")).toEqual([]);
    expect(result.diagnostics.filter((d) => d.ruleId === id)).toEqual([]);
  });
});
