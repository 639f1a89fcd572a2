import type { AlterObjectSchemaStmt, RenameStmt } from "libpg-query";
import { fromRangeVar, type QualifiedName } from "../parse/ast.js";
import { key, type RelationModel, type SchemaModel } from "../schema/model.js";
import { isNew } from "../schema/queries.js";
import { keepsColumns, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";

const relationKinds = new Set([
  "OBJECT_TABLE",
  "OBJECT_VIEW",
  "OBJECT_MATVIEW",
  "OBJECT_FOREIGN_TABLE",
  "OBJECT_SEQUENCE",
]);

/**
 * The documented recipe: rename (or move) the table and, in the same file,
 * create a view with the old name over it. Old queries then resolve the old
 * name to the view. So the finding is withdrawn when, at the end of the file,
 * the old name in the old schema is the same relation (renamed back), or a
 * view with every column the model knew the relation to have (a view that
 * leaves one out fails old queries of it; the model knows a view's columns
 * when it can derive them, e.g. SELECT * over the renamed table). A new
 * *table* with the old name is not enough: old code would read an empty
 * table. A sequence or materialized view cannot be replaced by a view
 * (nextval(), REFRESH), so only renaming it back counts.
 */
function restoredBy(ctx: { schema: SchemaModel }, q: QualifiedName, renameType: string | undefined) {
  const rel: RelationModel | undefined = ctx.schema.relation(q.schema, q.name);
  const schema = rel?.schema ?? ctx.schema.resolveSchema("relations", q.schema, q.name);
  const kind =
    rel?.kind ??
    (renameType === "OBJECT_VIEW" ? "view" : renameType === "OBJECT_TABLE" ? "table" : undefined);
  const viewWillDo = kind === "table" || kind === "view" || renameType === "OBJECT_FOREIGN_TABLE";
  // Columns the model never saw cannot be checked; any view is taken for the stand-in then.
  const keeps = rel?.columnsKnown ? keepsColumns(rel) : () => true;
  const k = key(schema, q.name);
  return (end: SchemaModel) => {
    const now = end.relations.get(k);
    if (now === undefined) return false;
    if (rel !== undefined && now === rel) return true;
    return viewWillDo && now.kind === "view" && keeps(now);
  };
}

/**
 * A relation the change set created, or whose current name (or schema) a
 * rename in the change set gave it: old code does not know it by this name.
 * The rename that took the old name away is the one reported (and withdrawn
 * when the relation ends the file under it again).
 */
function namedInChangeSet(rel: RelationModel | undefined): boolean {
  return isNew(rel) || rel?.namedBy?.inChangeSet === true;
}

export const renameTable: Rule = {
  id: "rename-table",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "Renaming a table, view or sequence, or moving it to another schema, unless the same file puts a view with the old name in its place.",
  hint: "Create the new name alongside the old: in the same file, `CREATE VIEW <old name> AS SELECT * FROM <new name>`, move every reader, then drop the view later.",
  kinds: ["RenameStmt", "AlterObjectSchemaStmt"],
  check(ctx) {
    if (ctx.stmt.kind === "RenameStmt") {
      const r = ctx.stmt.body as RenameStmt;
      if (!relationKinds.has(r.renameType ?? "")) return [];
      const q = fromRangeVar(r.relation);
      if (namedInChangeSet(ctx.schema.relation(q.schema, q.name))) return [];
      const f: Finding = {
        message: `renaming ${tableName(q)} to ${r.newname}; the previous generation still queries the old name`,
        span: ctx.find(/rename\s+to/i),
        withdrawnIf: restoredBy(ctx, q, r.renameType),
      };
      return [f];
    }
    if (ctx.stmt.kind === "AlterObjectSchemaStmt") {
      const a = ctx.stmt.body as AlterObjectSchemaStmt;
      if (!relationKinds.has(a.objectType ?? "") || !a.relation) return [];
      const q = fromRangeVar(a.relation);
      if (namedInChangeSet(ctx.schema.relation(q.schema, q.name))) return [];
      return [
        {
          message: `moving ${tableName(q)} to schema ${a.newschema}; the previous generation resolves it through the old schema`,
          span: ctx.find(/set\s+schema/i),
          withdrawnIf: restoredBy(ctx, q, a.objectType),
        },
      ];
    }
    return [];
  },
};
