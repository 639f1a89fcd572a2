/**
 * The safeguard mutants (RELIABILITY.md, "Each scenario can fail") are text
 * edits of the built library. If the library's code changes under them, a
 * mutant no longer applies and nobody can re-run the proof that its scenario
 * fails. Checked here against the current build, and the tool run twice into
 * one folder (its copies must be replaceable).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs module of the chaos tooling, without types
import { MUTANTS } from "./mutants-list.mjs";

type Edit = [string, string];
type Part = { file: string; edits: Edit[] };
type Mutant = Part & { also?: Part[]; scenario: string };

const root = join(import.meta.dirname, "..", "..");
const dist = join(root, "packages", "outbox", "dist");
const scratch = mkdtempSync(join(tmpdir(), "cutover-mutants-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("safeguard mutants", () => {
  const all = Object.entries(MUTANTS as Record<string, Mutant>);

  it.each(all)("%s: every edit still applies to the built library", (_name, m) => {
    for (const part of [{ file: m.file, edits: m.edits }, ...(m.also ?? [])]) {
      const text = readFileSync(join(dist, part.file), "utf8");
      for (const [from, to] of part.edits) {
        expect(text.includes(from), `${part.file} contains ${JSON.stringify(from)}`).toBe(true);
        expect(to).not.toBe(from);
      }
    }
    for (const file of m.scenario.split(" ").filter((w) => w.endsWith(".test.ts")))
      expect(existsSync(join(root, file)), file).toBe(true);
  });

  it("the tool builds a mutant twice into the same folder, migrations included", () => {
    const run = () =>
      execFileSync(process.execPath, [join(root, "test", "chaos", "mutants.mjs"), "no-fence"], {
        env: { ...process.env, CHAOS_MUTANTS_DIR: scratch },
        encoding: "utf8",
      });
    run();
    const printed = run();
    expect(printed).toContain(`CHAOS_OUTBOX_DIST=${join(scratch, "no-fence")}`);
    const sql = readFileSync(join(scratch, "no-fence", "consumer", "sql.js"), "utf8");
    expect(sql).toContain("AND status = 'in_flight' AND $3::text IS NOT NULL");
    expect(existsSync(join(scratch, "migrations", "1732000000002_outbox.sql"))).toBe(true);
  });
});
