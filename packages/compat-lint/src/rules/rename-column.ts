import type { RenameStmt } from "libpg-query";
import { fromRangeVar } from "../parse/ast.js";
import { existingColumn, tableName } from "./helpers.js";
import type { Rule } from "./rule.js";
import { shape } from "./shape.js";

export const renameColumn: Rule = {
  id: "rename-column",
  category: "contract",
  defaultSeverity: "error",
  summary: "Renaming a column the previous generation uses by its old name.",
  hint: "Add the new column, write both from the new generation, backfill, move reads, then drop the old column in a later change set.",
  kinds: ["RenameStmt"],
  check(ctx) {
    if (ctx.stmt.kind !== "RenameStmt") return [];
    const r = ctx.stmt.body as RenameStmt;
    if (r.renameType !== "OBJECT_COLUMN" || r.subname === undefined) return [];
    const q = fromRangeVar(r.relation);
    if (!existingColumn(ctx.schema.relation(q.schema, q.name), r.subname).existing) return [];
    return [
      {
        message: `renaming column ${tableName(q)}.${r.subname} to ${r.newname}; the previous generation still uses the old name`,
        span: ctx.find(shape("rename [column] $", r.subname)),
      },
    ];
  },
};
