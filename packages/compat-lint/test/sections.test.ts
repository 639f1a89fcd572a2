import { lintSources } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";
import { upSection } from "../src/parse/migration-file.js";

const base = {
  path: "0_base.sql",
  content: "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
  inChangeSet: false,
};

/** Lints `sql` after a base file that created users; returns rule ids reported. */
async function verdict(sql: string) {
  const r = await lintSources([base, { path: "1_m.sql", content: sql, inChangeSet: true }]);
  return r.diagnostics.map((d) => `${d.ruleId}@${d.start.line}`);
}

describe("up sections: only what the migrator runs on up is linted", () => {
  it("node-pg-migrate, dbmate and goose markers", async () => {
    const files = {
      pgm: "-- Up Migration\nALTER TABLE users ADD COLUMN name text;\n-- Down Migration\nALTER TABLE users DROP COLUMN name;\n",
      dbmate:
        "-- migrate:up\nALTER TABLE users ADD COLUMN name text;\n\n-- migrate:down\nALTER TABLE users DROP COLUMN name;\n",
      goose:
        "-- +goose Up\n-- +goose StatementBegin\nALTER TABLE users ADD COLUMN name text;\n-- +goose StatementEnd\n\n-- +goose Down\nALTER TABLE users DROP COLUMN name;\n",
    };
    for (const [tool, sql] of Object.entries(files)) {
      expect(await verdict(sql), tool).toEqual([]);
      const { start, end } = upSection(sql);
      expect(sql.slice(start, end), tool).toContain("ADD COLUMN");
      expect(sql.slice(start, end), tool).not.toContain("DROP COLUMN");
    }
    // dbmate's options after the marker, and a down section that comes first.
    const reversed =
      "-- migrate:down\nALTER TABLE users DROP COLUMN email;\n-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n";
    expect(await verdict(reversed)).toEqual([]);
  });

  it("without an up marker the whole file runs, and is linted whole", async () => {
    expect(await verdict("ALTER TABLE users DROP COLUMN email;\n-- migrate:down\nSELECT 1;\n")).toEqual([
      "drop-column@1",
    ]);
    // A word in a comment is not a marker.
    expect(
      await verdict("-- this file has no goose markers\nALTER TABLE users DROP COLUMN email;\n"),
    ).toEqual(["drop-column@2"]);
  });

  it("a directive in a dbmate or goose down section is reported, as in node-pg-migrate's", async () => {
    const sql =
      "-- migrate:up\nALTER TABLE users ADD COLUMN n int;\n-- migrate:down\n-- compat-lint ignore drop-column\nALTER TABLE users DROP COLUMN n;\n";
    expect(await verdict(sql)).toEqual(["invalid-directive@4"]);
  });
});
