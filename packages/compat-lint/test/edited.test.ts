import { lintSources } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";

/** Lints `now` as a file that had `before` at the --since ref (lint() sets `previous` for such files). */
async function edited(before: string, now: string) {
  const result = await lintSources([
    { path: "1_m.sql", content: now, inChangeSet: false, previous: { content: before, ref: "origin/main" } },
  ]);
  return result.diagnostics
    .filter((d) => d.ruleId === "edited-migration")
    .map((d) => `${d.start.line}:${d.start.column} ${d.message.match(/\(([^)]*)\)/)?.[1]}`);
}

const two = "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n";

describe("edited-migration: where a migration's statements first differ from the ref's", () => {
  it("ignores whitespace, comments, a changed Down section and statement positions", async () => {
    expect(
      await edited(two, `-- now with a comment\n\nCREATE TABLE a (\n  id int\n);\nCREATE TABLE b (id int);`),
    ).toEqual([]);
    const upDown = (down: string) => `-- Up Migration\n${two}-- Down Migration\n${down}`;
    expect(await edited(upDown("DROP TABLE b;\n"), upDown("DROP TABLE b;\nDROP TABLE a;\n"))).toEqual([]);
  });

  it("points at the first changed, added or removed statement", async () => {
    expect(await edited(two, "CREATE TABLE a (id int);\nCREATE TABLE b (id bigint);\n")).toEqual([
      "2:1 statement 2 differs",
    ]);
    expect(await edited(two, `${two}CREATE TABLE c (id int);\n`)).toEqual(["3:1 statement 3 was added"]);
    expect(await edited(two, "CREATE TABLE a (id int);\n")).toEqual(["1:1 statement 2 was removed"]);
    expect(await edited(two, "CREATE TABLE b (id int);\nCREATE TABLE a (id int);\n")).toEqual([
      "1:1 statement 1 differs",
    ]);
  });

  it("ignores whitespace and comments inside a PL/pgSQL or SQL body, but not a change to its code or strings", async () => {
    const block = (body: string) => `CREATE TABLE a (id int);\nDO $$${body}$$;\n`;
    const before = block("\nBEGIN\n  UPDATE a SET id = id + 1 WHERE id < 0;\n  RAISE NOTICE 'x  y';\nEND\n");
    expect(
      await edited(
        before,
        block(
          "  BEGIN\n\tUPDATE a SET id = id + 1 -- shift\n     WHERE id < 0 ;\n  /* done */ RAISE NOTICE 'x  y';\nEND",
        ),
      ),
    ).toEqual([]);
    // A real change, or whitespace inside a string literal, still counts.
    expect(await edited(before, before.replace("id + 1", "id + 2"))).toEqual(["2:1 statement 2 differs"]);
    expect(await edited(before, before.replace("'x  y'", "'x y'"))).toEqual(["2:1 statement 2 differs"]);
    const fn = (body: string, language = "plpgsql") =>
      `CREATE FUNCTION f() RETURNS int LANGUAGE ${language} AS $f$${body}$f$;\n`;
    expect(await edited(fn("BEGIN RETURN 1; END"), fn("\nBEGIN\n  RETURN 1;\nEND\n"))).toEqual([]);
    expect(await edited(fn("SELECT 1", "sql"), fn("\n  SELECT 1\n", "sql"))).toEqual([]);
    // Whitespace is code in other languages (Python's indentation).
    expect(await edited(fn("return 1", "plpython3u"), fn(" return 1", "plpython3u"))).toEqual([
      "1:1 statement 1 differs",
    ]);
  });

  it("reports an earlier version that did not parse (the fix reaches only new databases)", async () => {
    expect(await edited("CREATE TABLE a (id int;\n", "CREATE TABLE a (id int);\n")).toEqual([
      "1:1 the earlier version did not parse",
    ]);
  });
});
