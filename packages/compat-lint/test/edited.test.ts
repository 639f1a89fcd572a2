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

  it("reports an earlier version that did not parse (the fix reaches only new databases)", async () => {
    expect(await edited("CREATE TABLE a (id int;\n", "CREATE TABLE a (id int);\n")).toEqual([
      "1:1 the earlier version did not parse",
    ]);
  });
});
