import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { rules } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";
import { fixturesDir, lintOnBase, repoDir } from "./helpers.js";

/**
 * Every contract finding says three things (issue 17): the rule whose reason applies (its id,
 * and a docs page that exists), the old code that breaks (the message names the previous
 * generation or old code), and the expand/contract step that makes the change safe (the hint).
 */
describe("finding messages", () => {
  const contract = rules.filter((r) => r.category === "contract");

  it.each(contract.map((r) => [r.id, r] as const))(
    "%s: names old code, a docs page and a safe step",
    async (id, rule) => {
      const dir = join(fixturesDir, "rules", id);
      const previous = existsSync(join(dir, "previous.sql"))
        ? readFileSync(join(dir, "previous.sql"))
        : undefined;
      const result = await lintOnBase(readFileSync(join(dir, "bad.sql")), `${id}/bad.sql`, previous);
      const mine = result.diagnostics.filter((d) => d.ruleId === id);
      expect(mine.length).toBeGreaterThan(0);
      for (const d of mine) {
        expect(d.message, d.message).toMatch(
          /previous generation|previous-generation|old code|old (?:INSERT|row|write|cast|caller)s?|databases that ran it/i,
        );
        expect(d.hint ?? "", d.message).toMatch(
          /later|after|then|first|until|once|step|instead|keep|new migration/i,
        );
      }
      expect(existsSync(join(repoDir, `docs/compat-lint/rules/${rule.id}.md`))).toBe(true);
    },
  );
});
