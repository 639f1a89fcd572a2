import type { AlterObjectSchemaStmt, RenameStmt } from "libpg-query";
import { fromRangeVar } from "../ast.js";
import { isNew } from "../schema/model.js";
import { type Rule, tableName } from "./rule.js";

const relationKinds = new Set([
  "OBJECT_TABLE",
  "OBJECT_VIEW",
  "OBJECT_MATVIEW",
  "OBJECT_FOREIGN_TABLE",
  "OBJECT_SEQUENCE",
]);

export const renameTable: Rule = {
  id: "rename-table",
  category: "contract",
  defaultSeverity: "error",
  summary: "Renaming a table, view or sequence, or moving it to another schema.",
  hint: "Create the new name alongside the old (e.g. a view over the table, or a new table written by both generations), move every reader, then drop the old name later.",
  kinds: ["RenameStmt", "AlterObjectSchemaStmt"],
  check(ctx) {
    if (ctx.stmt.kind === "RenameStmt") {
      const r = ctx.stmt.body as RenameStmt;
      if (!relationKinds.has(r.renameType ?? "")) return [];
      const q = fromRangeVar(r.relation);
      if (isNew(ctx.schema.relation(q.schema, q.name))) return [];
      return [
        {
          message: `renaming ${tableName(q)} to ${r.newname}; the previous generation still queries the old name`,
          span: ctx.find(/rename\s+to/i),
        },
      ];
    }
    if (ctx.stmt.kind === "AlterObjectSchemaStmt") {
      const a = ctx.stmt.body as AlterObjectSchemaStmt;
      if (!relationKinds.has(a.objectType ?? "") || !a.relation) return [];
      const q = fromRangeVar(a.relation);
      if (isNew(ctx.schema.relation(q.schema, q.name))) return [];
      return [
        {
          message: `moving ${tableName(q)} to schema ${a.newschema}; the previous generation resolves it through the old schema`,
          span: ctx.find(/set\s+schema/i),
        },
      ];
    }
    return [];
  },
};
