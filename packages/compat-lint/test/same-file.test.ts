import { lintSources } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";
import { ids } from "./helpers.js";

const files = (...sqls: string[]) =>
  lintSources(sqls.map((content, i) => ({ path: `${i + 1}.sql`, content, inChangeSet: i > 0 })));
const init = "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric NOT NULL);";

describe("what a file may put back, and what it may not carry over", () => {
  it("withdraws a rename when the same file puts a view with the old name in its place", async () => {
    const r = await files(
      init,
      "ALTER TABLE orders RENAME TO purchases;\nCREATE VIEW orders AS SELECT * FROM purchases;",
    );
    expect(ids(r)).toEqual([]);
  });

  it("keeps it when the view comes in a later file: old code sees the gap between them", async () => {
    const r = await files(
      init,
      "ALTER TABLE orders RENAME TO purchases;",
      "CREATE VIEW orders AS SELECT * FROM purchases;",
    );
    expect(ids(r)).toEqual(["rename-table"]);
  });

  it("does not carry a file's SET search_path into the next file (a new session)", async () => {
    const r = await files(
      `${init}\nCREATE SCHEMA billing;`,
      "SET search_path = billing, public;",
      "CREATE TABLE billing.orders (id bigint);\nDROP TABLE orders;",
    );
    expect(ids(r)).toEqual(["drop-table"]);
  });
});
