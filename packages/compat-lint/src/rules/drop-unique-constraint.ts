import type { QualifiedName } from "../parse/ast.js";
import { display } from "../parse/ast.js";
import { key, type SchemaModel } from "../schema/model.js";
import { columnsShape, indexConstraint, indexKinds, isNew } from "../schema/queries.js";
import { alterCommands, droppedObjects, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";
import { shape } from "./shape.js";

const kindLabels: Record<string, string> = { primary: "PRIMARY KEY", unique: "UNIQUE", exclusion: "EXCLUDE" };

/**
 * Postgres' own names for the constraints whose drop only relaxes what old
 * code may write (a CHECK, a FOREIGN KEY). A constraint the model never saw
 * is reported unless its name says it is one of those: unknown means old, and
 * it may be the unique key an old ON CONFLICT names.
 */
const relaxingName = /_(?:check|fkey)\d*$/;

const sameColumns = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join("\0") === [...b].sort().join("\0");

/**
 * Withdrawn when the file puts the key back under the same name over the
 * same columns (the primary-key swap: DROP CONSTRAINT t_pkey, ADD CONSTRAINT
 * t_pkey PRIMARY KEY USING INDEX ...), or, for a dropped unique index, a
 * unique index of the same name and the same shape (the index rebuild:
 * CREATE UNIQUE INDEX CONCURRENTLY new, DROP INDEX old, ALTER INDEX new
 * RENAME TO old): the same columns are not enough, a partial index or one
 * over an expression cannot serve the old ON CONFLICT (cols). A dropped
 * unique index is also withdrawn when any key or unique index of its shape
 * stands at the end of the change set (servedBy).
 */
function restored(
  schema: string,
  relation: string,
  name: string,
  same: { columns: string[] | undefined } | { shape: string },
) {
  return (end: SchemaModel) => {
    const owner = indexConstraint(end, { schema, name });
    if (owner && key(owner.relation.schema, owner.relation.name) === relation) {
      if (
        "shape" in same ? columnsShape(owner.constraint.columns) === same.shape : same.columns === undefined
      )
        return true;
      if (!("shape" in same) && sameColumns(owner.constraint.columns, same.columns!)) return true;
    }
    const idx = end.indexes.get(key(schema, name));
    if ("shape" in same && idx?.unique === true && idx.relation === relation && idx.shape === same.shape)
      return true;
    // A constraint may be named by an old ON CONFLICT ON CONSTRAINT: only its name brings it
    // back. A plain unique index cannot be named there: any key of its shape serves.
    return "shape" in same && servedBy(end, relation, same.shape);
  };
}

/**
 * Whether a key or unique index of `shape` on the relation stands, under any name: the
 * previous generation's ON CONFLICT (cols) infers its arbiter from the columns, so a unique
 * index (which ON CONFLICT ON CONSTRAINT cannot name) swapped for a PRIMARY KEY over the same
 * columns serves it as before.
 */
function servedBy(end: SchemaModel, relation: string, shape: string): boolean {
  const rel = end.relations.get(relation);
  for (const c of rel?.constraints.values() ?? []) {
    if ((c.kind === "primary" || c.kind === "unique") && columnsShape(c.columns) === shape) return true;
  }
  for (const idx of end.indexes.values()) {
    if (idx.unique && idx.relation === relation && idx.shape === shape) return true;
  }
  return false;
}

export const dropUniqueConstraint: Rule = {
  id: "drop-unique-constraint",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "Dropping a PRIMARY KEY, UNIQUE or EXCLUDE constraint or a unique index the previous generation's ON CONFLICT may name or infer.",
  hint: "Keep the key while any generation upserts through it (ON CONFLICT); drop it in a later change set with `-- compat: breaking (reason: ...)`. To rebuild it, put it back under the same name in the same file.",
  kinds: ["AlterTableStmt.AT_DropConstraint", "DropStmt"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      if (cmd.subtype !== "AT_DropConstraint" || cmd.name === undefined || isNew(relation)) continue;
      const con = relation?.constraints.get(cmd.name);
      if (con ? isNew(con) || !indexKinds.has(con.kind) : relaxingName.test(cmd.name)) continue;
      const schema = relation?.schema ?? ctx.schema.resolveSchema("relations", target.schema, target.name);
      const what = con ? `${kindLabels[con.kind]} constraint` : "constraint";
      out.push({
        message: `dropping ${what} ${cmd.name} of ${tableName(target)}; the previous generation's INSERT ... ON CONFLICT ${con ? `(${con.columns.join(", ")}) ` : ""}that uses it ${con ? "starts" : "may start"} failing`,
        span: ctx.find(shape("drop constraint [if exists] $", cmd.name)),
        withdrawnIf: restored(schema, key(schema, relation?.name ?? target.name), cmd.name, {
          columns: con?.columns,
        }),
      });
    }
    out.push(
      ...droppedObjects(ctx, ["OBJECT_INDEX"], (q: QualifiedName) => {
        const idx = ctx.schema.index(q.schema, q.name);
        // A constraint's index cannot be dropped on its own (Postgres refuses); unknown indexes are not known to be unique.
        if (!idx?.unique || isNew(idx) || isNew(ctx.schema.relations.get(idx.relation))) return undefined;
        return {
          message: `dropping unique index ${display(q)} on ${idx.relation}(${idx.columns.join(", ")}); the previous generation's INSERT ... ON CONFLICT over those columns starts failing`,
          span: ctx.find(/drop\s+index/i),
          withdrawnIf: restored(idx.schema, idx.relation, idx.name, { shape: idx.shape }),
        };
      }),
    );
    return out;
  },
};
