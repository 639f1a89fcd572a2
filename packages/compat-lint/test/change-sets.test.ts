import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lint } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";
import { collectFiles, expandBraces } from "../src/engine/files.js";

/** Writes files (relative path -> SQL) into a fresh folder and returns it. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "compat-lint-cs-"));
  for (const [p, sql] of Object.entries(files)) {
    mkdirSync(join(dir, p, ".."), { recursive: true });
    writeFileSync(join(dir, p), sql);
  }
  return dir;
}

const errors = (r: Awaited<ReturnType<typeof lint>>) =>
  r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.file}:${d.ruleId}`);

describe("change sets without git", () => {
  // ory/kratos writes one popx version as several steps: <timestamp><step>_name.postgres.up.sql.
  const popx = {
    "m/20200101000000000000_init.postgres.up.sql": "CREATE TABLE t (id int PRIMARY KEY);",
    "m/20200202000000000000_x.postgres.up.sql": "ALTER TABLE t ADD COLUMN x int;",
    "m/20200202000000000001_x.postgres.up.sql": "ALTER TABLE t RENAME COLUMN x TO y;",
    "m/20200303000000000000_y.up.sql": "ALTER TABLE t DROP COLUMN y;",
  };

  it("auto: the steps of one popx version are one change set; the next version is another", async () => {
    const dir = tree(popx);
    const r = await lint({ paths: ["m"], cwd: dir });
    expect(errors(r)).toEqual(["m/20200303000000000000_y.up.sql:drop-column"]);
  });

  it('"file": each step is judged alone', async () => {
    const dir = tree(popx);
    const r = await lint({ paths: ["m"], cwd: dir, config: { changeSets: "file" } });
    expect(errors(r)).toEqual([
      "m/20200202000000000001_x.postgres.up.sql:rename-column",
      "m/20200303000000000000_y.up.sql:drop-column",
    ]);
  });

  it("a pattern: files whose names give the same first group form one change set", async () => {
    const dir = tree({
      "m/001_init.sql": "CREATE TABLE t (id int PRIMARY KEY);",
      "m/002a_add.sql": "ALTER TABLE t ADD COLUMN x int;",
      "m/002b_tighten.sql": "ALTER TABLE t DROP COLUMN x;",
    });
    const r = await lint({ paths: ["m"], cwd: dir, config: { changeSets: { pattern: "^(\\d+)" } } });
    expect(errors(r)).toEqual([]);
    const alone = await lint({ paths: ["m"], cwd: dir });
    expect(errors(alone)).toEqual(["m/002b_tighten.sql:drop-column"]);
  });

  it('"folder": the files of one folder form one change set (Diesel up.sql + extra files)', async () => {
    const dir = tree({
      "m/2020-01-01-000000_init/up.sql": "CREATE TABLE t (id int PRIMARY KEY);",
      "m/2020-02-02-000000_add/a.sql": "ALTER TABLE t ADD COLUMN x int;",
      "m/2020-02-02-000000_add/b.sql": "ALTER TABLE t DROP COLUMN x;",
    });
    const r = await lint({ paths: ["m/*/*.sql"], cwd: dir, config: { changeSets: "folder" } });
    expect(errors(r)).toEqual([]);
  });
});

describe("folder-per-migration order", () => {
  it("orders Prisma folders by folder name: a_b/ after a/ whatever '_' and '/' sort as", () => {
    const dir = tree({
      "p/20230101000000_add/migration.sql": "SELECT 1;",
      "p/20230101000000_add_more/migration.sql": "SELECT 1;",
      "p/20230101000000_addx/migration.sql": "SELECT 1;",
      "p/20221231000000_first/migration.sql": "SELECT 1;",
      "p/20230101_short/migration.sql": "SELECT 1;",
      "p/20230102000000_next/migration.sql": "SELECT 1;",
    });
    const names = collectFiles(["p/*/migration.sql"], dir).map((p) => p.slice(dir.length + 3));
    // Prisma sorts the folder names in byte order: "…_add" < "…_add_more" < "…_addx", and a
    // shorter timestamp where its characters put it (langfuse's 20250625_add_pivot_table_charttype).
    expect(names).toEqual([
      "20221231000000_first/migration.sql",
      "20230101000000_add/migration.sql",
      "20230101000000_add_more/migration.sql",
      "20230101000000_addx/migration.sql",
      "20230101_short/migration.sql",
      "20230102000000_next/migration.sql",
    ]);
  });
});

describe("brace globs", () => {
  it("expands migrations/{a,b}/*.sql like a shell, nested braces too", () => {
    const dir = tree({
      "m/a/1_x.sql": "SELECT 1;",
      "m/b/2_y.sql": "SELECT 1;",
      "m/c/3_z.sql": "SELECT 1;",
    });
    const names = (arg: string) => collectFiles([arg], dir).map((p) => p.slice(dir.length + 1));
    expect(names("m/{a,b}/*.sql")).toEqual(["m/a/1_x.sql", "m/b/2_y.sql"]);
    expect(names("m/{a,{b,c}}/*.sql")).toEqual(["m/a/1_x.sql", "m/b/2_y.sql", "m/c/3_z.sql"]);
    // An alternative that matches nothing is fine; all of them matching nothing is a usage error.
    expect(names("m/{a,nope}/*.sql")).toEqual(["m/a/1_x.sql"]);
    expect(() => names("m/{x,y}/*.sql")).toThrow(/no files match m\/\{x,y\}\/\*\.sql/);
    expect(expandBraces("a{b}c")).toEqual(["a{b}c"]);
    expect(expandBraces("a{b,c")).toEqual(["a{b,c"]);
  });
});
