import type { IndexElem, IndexStmt } from "libpg-query";
import { fromRangeVar, nodeOf } from "../parse/ast.js";
import { key, type Origin, type RelationModel, type SchemaModel } from "../schema/model.js";
import { constraintColumns, filledOnInsert, indexColumns, indexShape, isNew } from "../schema/queries.js";
import { addedConstraints, columnList, existingColumn } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";

/**
 * Whether a uniqueness rule over these columns can reject a row the previous
 * generation writes. It cannot when one key column is new and has no default
 * (its own or its domain's): old code leaves it NULL, and NULLs are distinct
 * (unless the index says NULLS NOT DISTINCT); or, made NOT NULL, old INSERTs
 * fail on that first (set-not-null's or add-required-column's finding).
 */
function constrainsOldWrites(
  schema: SchemaModel,
  rel: RelationModel | undefined,
  columns: string[],
  nullsNotDistinct: boolean,
): boolean {
  if (columns.length === 0) return false;
  if (!columns.some((c) => existingColumn(rel, c).existing)) return false;
  if (nullsNotDistinct) return true;
  return !columns.some((c) => {
    const { existing, model } = existingColumn(rel, c);
    return !existing && model !== undefined && !filledOnInsert(schema, model);
  });
}

/**
 * Whether a PRIMARY KEY / UNIQUE constraint or a plain (non-partial, column-only)
 * unique index already on the table covers a subset of these plain columns:
 * then the new key cannot reject a row the old one accepts (rebuilding a key:
 * CREATE UNIQUE INDEX CONCURRENTLY over the primary key's columns, then swap;
 * widening a key with a column, as a tenant id). A key or unique index this
 * very file dropped counts too (dropped and re-added, under the same name or
 * another, or widened): the stored values satisfied it, and within one
 * migration (one transaction) old code wrote nothing in between. One an
 * earlier file dropped does not: old code may have written duplicates since.
 */
function impliedByExistingKey(
  schema: SchemaModel,
  rel: RelationModel | undefined,
  columns: string[],
  nullsNotDistinct: boolean,
  file: Origin,
) {
  if (!rel || columns.length === 0) return false;
  const covers = (cols: readonly string[]) => cols.length > 0 && cols.every((col) => columns.includes(col));
  const dropped = (rel.droppedConstraints ?? []).filter((d) => d.by === file).map((d) => d.constraint);
  for (const c of [...rel.constraints.values(), ...dropped]) {
    if (c.kind !== "primary" && c.kind !== "unique") continue;
    if (nullsNotDistinct && c.kind !== "primary") continue;
    if (covers(c.columns)) return true;
  }
  if (nullsNotDistinct) return false;
  const k = key(rel.schema, rel.name);
  const indexes = [...schema.indexes.values()].filter((i) => i.unique && i.relation === k);
  for (const d of rel.droppedIndexes ?? []) if (d.by === file) indexes.push(d.index);
  for (const i of indexes) {
    const plain = plainColumns(i.shape);
    if (plain && covers(plain)) return true;
  }
  return false;
}

/** The key columns of an index shape (indexShape) keyed on plain columns only, without a WHERE; else undefined. */
function plainColumns(shape: string): string[] | undefined {
  const [keys, where] = JSON.parse(shape) as [string[], unknown, boolean];
  if (where !== null || !keys.every((k) => k.startsWith("col:"))) return undefined;
  return keys.map((k) => k.slice(4));
}

/**
 * Whether a unique index of the same shape is already on the table: the new
 * one rejects nothing the old one does not (the index rebuild: create a copy
 * CONCURRENTLY, drop the old one, rename the copy). Scans the indexes only
 * for an index that would otherwise be reported.
 */
function duplicatesUniqueIndex(schema: SchemaModel, rel: RelationModel | undefined, shape: string): boolean {
  if (!rel) return false;
  const k = key(rel.schema, rel.name);
  for (const idx of schema.indexes.values())
    if (idx.unique && idx.relation === k && idx.shape === shape) return true;
  return false;
}

const constraintKinds: Partial<Record<string, string>> = {
  CONSTR_UNIQUE: "UNIQUE",
  CONSTR_PRIMARY: "PRIMARY KEY",
  CONSTR_EXCLUSION: "EXCLUDE",
};

export const uniqueOnExistingColumn: Rule = {
  id: "unique-on-existing-column",
  category: "contract",
  defaultSeverity: "error",
  summary: "Adding a UNIQUE / PRIMARY KEY / EXCLUDE constraint or unique index over pre-existing columns.",
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
      if (!constrainsOldWrites(ctx.schema, rel, cols, i.nulls_not_distinct === true)) return [];
      const plain = (i.indexParams ?? []).every((p) => nodeOf<IndexElem>(p, "IndexElem")?.name !== undefined);
      if (plain && impliedByExistingKey(ctx.schema, rel, cols, i.nulls_not_distinct === true, ctx.origin))
        return [];
      if (duplicatesUniqueIndex(ctx.schema, rel, indexShape(i))) return [];
      out.push({
        message: `unique index on existing ${columnList(q, cols)}; INSERTs and UPDATEs from the previous generation that write duplicates start failing`,
        span: ctx.find(/create\s+unique\s+index/i),
      });
      return out;
    }
    for (const { con, target, relation } of addedConstraints(ctx)) {
      const kind = constraintKinds[con.contype ?? ""];
      if (!kind || isNew(relation)) continue;
      // USING INDEX: the unique index already enforced this (and was judged when it was created).
      if (con.indexname) continue;
      // An exclusion constraint is a generalised uniqueness rule: NULLs never conflict there either.
      const cols = constraintColumns(con, undefined);
      if (!constrainsOldWrites(ctx.schema, relation, cols, con.nulls_not_distinct === true)) continue;
      if (
        kind !== "EXCLUDE" &&
        impliedByExistingKey(ctx.schema, relation, cols, con.nulls_not_distinct === true, ctx.origin)
      )
        continue;
      out.push({
        message: `adding ${kind} on existing ${columnList(target, cols)}; writes from the previous generation ${kind === "EXCLUDE" ? "that conflict with a stored row" : "that duplicate a value"} start failing`,
        span: con.location !== undefined ? ctx.at(con.location) : ctx.find(/add/i),
      });
    }
    return out;
  },
};
