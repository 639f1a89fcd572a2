import type { IndexStmt } from "libpg-query";
import { fromRangeVar } from "../parse/ast.js";
import { isNew } from "../schema/queries.js";
import { tableName } from "./helpers.js";
import type { Rule } from "./rule.js";

export const createIndexNonConcurrently: Rule = {
  id: "create-index-non-concurrently",
  category: "lock",
  defaultSeverity: "warning",
  summary: "CREATE INDEX without CONCURRENTLY on an existing table blocks its writes for the whole build.",
  hint: "Use CREATE INDEX CONCURRENTLY in a migration that runs outside a transaction.",
  kinds: ["IndexStmt"],
  check(ctx) {
    if (ctx.stmt.kind !== "IndexStmt") return [];
    const i = ctx.stmt.body as IndexStmt;
    if (i.concurrent) return [];
    const q = fromRangeVar(i.relation);
    if (isNew(ctx.schema.relation(q.schema, q.name))) return [];
    return [
      {
        message: `CREATE INDEX on existing table ${tableName(q)} without CONCURRENTLY takes a SHARE lock: writes wait until the index is built`,
        span: ctx.find(/create\s+(?:unique\s+)?index/i),
      },
    ];
  },
};
