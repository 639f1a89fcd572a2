import { describe, expect, it } from "vitest";
import { ids, lintOnBase } from "./helpers.js";

/**
 * check-on-existing-column over a column added in the change set reports a CHECK only when it
 * rejects the NULL old INSERTs leave there. Each case below was applied on PostgreSQL 15 (add the
 * column, add the CHECK, INSERT without the column) and the INSERT was accepted.
 */
describe("a CHECK over a new column that accepts the NULL old INSERTs leave", () => {
  const accepted: [string, string][] = [
    [
      "array || is array_append, not strict",
      "ADD COLUMN tags int[], ADD CONSTRAINT c CHECK (tags || 1 IS NOT NULL)",
    ],
    [
      "array || array is array_cat",
      "ADD COLUMN tags int[], ADD CONSTRAINT c CHECK ((ARRAY[1] || tags) IS NOT NULL)",
    ],
    [
      "NULL = ANY of an empty array is false, not NULL",
      "ADD COLUMN q int, ADD CONSTRAINT c CHECK (NOT ((q = ANY('{}'::int[])) IS NULL))",
    ],
    [
      "NULL <> ALL of an empty array is true",
      "ADD COLUMN q int, ADD CONSTRAINT c CHECK ((q <> ALL('{}'::int[])) IS NOT NULL)",
    ],
    [
      "num_nulls(VARIADIC NULL) is NULL, not a count",
      "ADD COLUMN q int[], ADD CONSTRAINT c CHECK (num_nulls(VARIADIC q) IS NULL)",
    ],
  ];
  for (const [why, cmds] of accepted) {
    it(why, async () => {
      const r = await lintOnBase(`ALTER TABLE orders ${cmds};`);
      expect(ids(r).filter((id) => id === "check-on-existing-column")).toEqual([]);
    });
  }

  it("still reports the ones that reject it", async () => {
    const r = await lintOnBase(
      [
        "ALTER TABLE orders ADD COLUMN q int, ADD CONSTRAINT c1 CHECK (q = ANY(ARRAY[1, 2]) IS NOT NULL);",
        "ALTER TABLE orders ADD COLUMN s text, ADD CONSTRAINT c2 CHECK (length(s) > 0 IS NOT NULL);",
        "ALTER TABLE orders ADD COLUMN v int, ADD CONSTRAINT c3 CHECK (num_nulls(v) = 0);",
      ].join("\n"),
    );
    expect(ids(r).filter((id) => id === "check-on-existing-column")).toEqual([
      "check-on-existing-column",
      "check-on-existing-column",
      "check-on-existing-column",
    ]);
  });
});
