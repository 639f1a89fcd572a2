import { display } from "../parse/ast.js";
import { key, type RelationModel, type SchemaModel } from "../schema/model.js";
import { columnsShape, filledOnInsert, isNew } from "../schema/queries.js";
import { typeChange } from "../schema/sql-type.js";
import { droppedObjects } from "./helpers.js";
import type { Rule } from "./rule.js";

/**
 * Withdrawn when the change set rebuilds the table under its name (CREATE TABLE new AS SELECT
 * ..., DROP TABLE t, ALTER TABLE new RENAME TO t, then its keys) with what old code uses: every
 * old column with a type that keeps its values, the same default (or fill) where it had one, no
 * NOT NULL it did not have, no new NOT NULL column old INSERTs would omit, and every old primary
 * key or unique constraint back over the same columns (as a key or a plain unique index).
 */
function rebuilt(schema: SchemaModel, old: RelationModel): ((end: SchemaModel) => boolean) | undefined {
  if (!old.columnsKnown || old.kind !== "table") return undefined;
  const k = key(old.schema, old.name);
  const columns = [...old.columns.values()].map((c) => ({
    name: c.name,
    type: c.type,
    notNull: c.notNull,
    defaultKey: c.defaultKey,
    filled: filledOnInsert(schema, c),
  }));
  const keys = [...old.constraints.values()]
    .filter((c) => c.kind === "primary" || c.kind === "unique")
    .map((c) => columnsShape(c.columns));
  return (end) => {
    const now = end.relations.get(k);
    if (!now || now === old || now.kind !== "table" || !now.columnsKnown) return false;
    for (const c of columns) {
      const n = now.columns.get(c.name);
      if (!n || n.type.name === "" || !typeChange(c.type, n.type).compatible) return false;
      if (n.notNull && !c.notNull) return false;
      if (c.filled && n.defaultKey !== c.defaultKey && !(n.generated && c.defaultKey === undefined))
        return false;
    }
    for (const n of now.columns.values())
      if (!old.columns.has(n.name) && n.notNull && !filledOnInsert(end, n)) return false;
    const shapes = new Set<string>();
    for (const c of now.constraints.values())
      if (c.kind === "primary" || c.kind === "unique") shapes.add(columnsShape(c.columns));
    for (const i of end.indexes.values()) if (i.unique && i.relation === k) shapes.add(i.shape);
    return keys.every((s) => shapes.has(s));
  };
}

export const dropTable: Rule = {
  id: "drop-table",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a table or sequence the previous generation still uses.",
  hint: "Stop using the table in one deploy; drop it in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    return droppedObjects(ctx, ["OBJECT_TABLE", "OBJECT_FOREIGN_TABLE", "OBJECT_SEQUENCE"], (q, d) => {
      const rel = ctx.schema.relation(q.schema, q.name);
      if (isNew(rel)) return undefined;
      if (d.removeType === "OBJECT_SEQUENCE")
        return {
          message: `dropping sequence ${display(q)}; the previous generation may still call nextval() on it or insert through a column default that uses it`,
          span: ctx.find(/drop\s+sequence/i),
        };
      return {
        message: `dropping table ${display(q)}; the previous generation still queries it`,
        span: ctx.find(/drop\s+(?:foreign\s+)?table/i),
        withdrawnIf: rel ? rebuilt(ctx.schema, rel) : undefined,
      };
    });
  },
};
