import type { DropStmt } from "libpg-query";
import { display } from "../parse/ast.js";
import { key, type RelationModel, type SchemaModel } from "../schema/model.js";
import { cascadeDependents, droppedRelations, isNew } from "../schema/queries.js";
import { droppedObjects, keepsColumns } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";

const label = (rel: { kind: string }) => (rel.kind === "matview" ? "materialized view" : "view");

/**
 * Withdrawn when the same file recreates the view (same kind, same name and
 * schema) with at least the old view's columns, each of a compatible type
 * where both types are known. Only for a view whose columns the model
 * derived: otherwise what old code selects cannot be shown to be there.
 */
function recreated(old: RelationModel | undefined): ((end: SchemaModel) => boolean) | undefined {
  if (!old?.columnsKnown) return undefined;
  const k = key(old.schema, old.name);
  const kind = old.kind;
  const keeps = keepsColumns(old);
  return (end) => {
    const v = end.relations.get(k);
    return v !== undefined && v !== old && v.kind === kind && keeps(v);
  };
}

export const dropView: Rule = {
  id: "drop-view",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "Dropping a view or materialized view the previous generation may query (also one DROP ... CASCADE takes with it), unless the same file recreates it with the same columns.",
  hint: "Use CREATE OR REPLACE VIEW for compatible changes (it keeps the view's grants); to remove one, stop using it in one deploy and drop it later with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    const out = droppedObjects(ctx, ["OBJECT_VIEW", "OBJECT_MATVIEW"], (q, d) => {
      const rel = ctx.schema.relation(q.schema, q.name);
      if (isNew(rel)) return undefined;
      return {
        message: `dropping ${d.removeType === "OBJECT_MATVIEW" ? "materialized view" : "view"} ${display(q)}; the previous generation may still query it`,
        span: ctx.find(/drop\s+(?:materialized\s+)?view/i),
        withdrawnIf: recreated(rel),
      };
    });
    if (ctx.stmt.kind !== "DropStmt") return out;
    const d = ctx.stmt.body as DropStmt;
    if (d.behavior !== "DROP_CASCADE") return out;
    // CASCADE drops the views that read what is dropped, whatever is dropped.
    const dropped = droppedRelations(ctx.schema, d);
    for (const dep of cascadeDependents(ctx.schema, dropped)) {
      if (isNew(dep)) continue;
      const f: Finding = {
        message: `DROP ... CASCADE also drops ${label(dep)} ${dep.schema}.${dep.name}, which reads what is dropped; the previous generation may still query it`,
        span: ctx.find(/\bcascade\b/i),
        withdrawnIf: recreated(dep),
      };
      out.push(f);
    }
    return out;
  },
};
