import type { IndexStmt } from "libpg-query";
import { fromRangeVar, nodeOf } from "../ast.js";
import { isNew, type RelationModel } from "../schema/model.js";
import { indexColumns } from "../schema/replay.js";
import { addedConstraints, columnList, existingColumn, type Finding, type Rule } from "./rule.js";

/**
 * Whether a uniqueness rule over these columns can reject a row the previous
 * generation writes. It cannot when one key column is new, nullable and has
 * no default: old code leaves it NULL, and NULLs are distinct (unless the
 * index says NULLS NOT DISTINCT).
 */
function constrainsOldWrites(
  rel: RelationModel | undefined,
  columns: string[],
  nullsNotDistinct: boolean,
): boolean {
  if (columns.length === 0) return false;
  if (!columns.some((c) => existingColumn(rel, c).existing)) return false;
  if (nullsNotDistinct) return true;
  return !columns.some((c) => {
    const { existing, model } = existingColumn(rel, c);
    return (
      !existing && model !== undefined && !model.notNull && model.defaultKey === undefined && !model.generated
    );
  });
}

export const uniqueOnExistingColumn: Rule = {
  id: "unique-on-existing-column",
  category: "contract",
  defaultSeverity: "error",
  summary: "Adding a UNIQUE / PRIMARY KEY constraint or unique index over pre-existing columns.",
  hint: "Old code may write duplicates the new constraint rejects. Make every generation enforce uniqueness in code first (or dedupe through a new column), then add the constraint with `-- compat: breaking (reason: ...)`.",
  kinds: ["IndexStmt", "AlterTableStmt.AT_AddConstraint"],
  check(ctx) {
    const out: Finding[] = [];
    if (ctx.stmt.kind === "IndexStmt") {
      const i = ctx.stmt.body as IndexStmt;
      if (!i.unique) return [];
      const q = fromRangeVar(i.relation);
      const rel = ctx.schema.relation(q.schema, q.name);
      if (isNew(rel)) return [];
      const cols = indexColumns(i);
      if (!constrainsOldWrites(rel, cols, i.nulls_not_distinct === true)) return [];
      out.push({
        message: `unique index on existing ${columnList(q, cols)}; INSERTs and UPDATEs from the previous generation that write duplicates start failing`,
        span: ctx.find(/create\s+unique\s+index/i),
      });
      return out;
    }
    for (const { con, target, relation } of addedConstraints(ctx)) {
      if (con.contype !== "CONSTR_UNIQUE" && con.contype !== "CONSTR_PRIMARY") continue;
      if (isNew(relation)) continue;
      // USING INDEX: the unique index already enforced this (and was judged when it was created).
      if (con.indexname) continue;
      const cols = (con.keys ?? []).map((k) => nodeOf<{ sval?: string }>(k, "String")?.sval ?? "");
      if (!constrainsOldWrites(relation, cols, con.nulls_not_distinct === true)) continue;
      const kind = con.contype === "CONSTR_PRIMARY" ? "PRIMARY KEY" : "UNIQUE";
      out.push({
        message: `adding ${kind} on existing ${columnList(target, cols)}; writes from the previous generation that duplicate a value start failing`,
        span: con.location !== undefined ? ctx.at(con.location) : ctx.find(/add/i),
      });
    }
    return out;
  },
};
