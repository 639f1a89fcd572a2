import type { Constraint } from "libpg-query";
import { fromRangeVar, strings } from "../parse/ast.js";
import type { ForeignKeyModel, RelationModel } from "../schema/model.js";
import { filledOnInsert, foreignKeyOf, isNew } from "../schema/queries.js";
import { addedConstraints, columnList, existingColumns, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";

const actionNames: Record<string, string> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};
const blocks = (a: string) => a === "a" || a === "r";

/** What a referential action does to the referencing rows when old code deletes (or re-keys) a referenced one. */
function effect(a: string, cols: readonly string[], write: "DELETE" | "UPDATE"): string {
  const which = cols.length > 0 ? `(${cols.join(", ")})` : "";
  if (a === "c") return write === "DELETE" ? "delete the referencing rows" : "re-key the referencing rows";
  if (a === "n") return `set the referencing columns${which} to NULL`;
  return `set the referencing columns${which} to their defaults`;
}

/**
 * Why a change of a referential action breaks the previous generation's
 * DELETEs (or UPDATEs of the referenced key), or undefined. A write that used
 * to fail and now succeeds is a relaxation, like dropping the key (RESTRICT
 * or NO ACTION to CASCADE / SET NULL / SET DEFAULT): old code never saw it
 * succeed. A write that used to succeed and now fails, or has a different
 * effect on the referencing rows, is a break. RESTRICT differs from NO
 * ACTION only when the key is deferrable (NO ACTION may then be satisfied by
 * commit time; RESTRICT never waits), otherwise both check at the end of
 * the statement.
 */
function actionBreak(
  old: { action: string; cols: readonly string[] },
  now: { action: string; cols: readonly string[] },
  write: "DELETE" | "UPDATE",
  deferrable: boolean,
): string | undefined {
  if (old.action === now.action && old.cols.join("\0") === now.cols.join("\0")) return undefined;
  const change = `ON ${write} ${actionNames[old.action]} becomes ${actionNames[now.action]}`;
  if (blocks(old.action)) {
    if (!blocks(now.action) || now.action === "a" || !deferrable) return undefined;
    return `${change}: the previous generation's transactions that ${write.toLowerCase()} a referenced row and put it back before COMMIT now fail at once`;
  }
  if (blocks(now.action))
    return `${change}: the previous generation's ${write}s of referenced rows, which used to ${effect(old.action, old.cols, write)}, now fail while rows reference them`;
  return `${change}: the previous generation's ${write}s of referenced rows now ${effect(now.action, now.cols, write)} instead of ${effect(old.action, old.cols, write)}`;
}

/** Not deferrable < DEFERRABLE INITIALLY IMMEDIATE < INITIALLY DEFERRED: a step down fails old code that defers. */
const deferral = (k: ForeignKeyModel) => (k.deferrable ? (k.initiallyDeferred ? 2 : 1) : 0);

/** Why redefining `old` as `now` (same columns, same target) breaks the previous generation, or undefined. */
function redefinitionBreak(old: ForeignKeyModel, now: ForeignKeyModel, columns: number): string | undefined {
  const del = actionBreak(
    { action: old.onDelete, cols: old.onDeleteColumns },
    { action: now.onDelete, cols: now.onDeleteColumns },
    "DELETE",
    old.deferrable,
  );
  if (del) return del;
  const upd = actionBreak(
    { action: old.onUpdate, cols: [] },
    { action: now.onUpdate, cols: [] },
    "UPDATE",
    old.deferrable,
  );
  if (upd) return upd;
  if (deferral(now) < deferral(old))
    return `it is no longer ${old.initiallyDeferred ? "INITIALLY DEFERRED" : "DEFERRABLE"}: the previous generation's transactions that write a reference before its row exists, or defer the check, now fail`;
  if (columns > 1 && old.match !== "f" && now.match === "f")
    return "MATCH SIMPLE becomes MATCH FULL: the previous generation's writes that leave some of the columns NULL now fail";
  return undefined;
}

const pairs = (cols: readonly string[], refs: readonly string[]) =>
  cols
    .map((c, i) => `${c}\0${refs[i] ?? ""}`)
    .sort()
    .join("\0\0");

/** Whether two keys constrain the same columns to the same referenced columns of the same relation. */
function sameReference(a: ForeignKeyModel, aCols: string[], b: ForeignKeyModel, bCols: string[]): boolean {
  if (a.refColumns.length === 0 || a.refColumns.length !== b.refColumns.length) return false;
  const sameTarget =
    a.references && b.references ? a.references === b.references : a.referencesKey === b.referencesKey;
  return sameTarget && pairs(aCols, a.refColumns) === pairs(bCols, b.refColumns);
}

/**
 * A key over the same columns to the same target that old code's writes
 * already met: one the relation has from before this change set, or one a
 * file of the change set dropped (Prisma's `DROP CONSTRAINT x_fkey; ADD
 * CONSTRAINT x_fkey ...` for a new onDelete). Values old code writes already
 * satisfied it, so only what the redefinition changes is judged.
 */
function previousKey(rel: RelationModel, con: Constraint, now: ForeignKeyModel): ForeignKeyModel | undefined {
  const cols = strings(con.fk_attrs);
  const candidates = [
    ...[...rel.constraints.values()].filter((c) => !isNew(c)),
    ...(rel.droppedConstraints ?? [])
      .filter((d) => d.by.inChangeSet && !isNew(d.constraint))
      .map((d) => d.constraint),
  ];
  for (const c of candidates)
    if (c.foreignKey && sameReference(c.foreignKey, c.columns, now, cols)) return c.foreignKey;
  return undefined;
}

export const foreignKeyOnExistingColumn: Rule = {
  id: "foreign-key-on-existing-column",
  category: "contract",
  defaultSeverity: "error",
  summary: "Adding a FOREIGN KEY over columns the previous generation writes.",
  hint: "NOT VALID only skips checking old rows; old code writing an orphan value (or deleting a referenced row) still fails. Ensure every generation keeps the reference valid first, then add the key with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_AddConstraint"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { con, target, relation } of addedConstraints(ctx)) {
      if (con.contype !== "CONSTR_FOREIGN") continue;
      const cols = existingColumns(relation, strings(con.fk_attrs));
      if (cols.length === 0) continue;
      const span = con.location !== undefined ? ctx.at(con.location) : undefined;
      const parent = tableName(fromRangeVar(con.pktable));
      if (relation) {
        const now = foreignKeyOf(ctx.schema, relation, con);
        const old = previousKey(relation, con, now);
        if (old) {
          const why = redefinitionBreak(old, now, strings(con.fk_attrs).length);
          if (why)
            out.push({
              message: `redefining the FOREIGN KEY on ${columnList(target, cols)} referencing ${parent}: ${why}`,
              hint: "Keep the referential actions while the previous generation deletes or re-keys referenced rows; change them in a later change set with `-- compat: breaking (reason: ...)`.",
              span,
            });
          continue;
        }
      }
      // MATCH SIMPLE skips a row with a NULL in any key column. A key column added in this change
      // set that nothing fills is NULL in every row old code inserts (or, NOT NULL, fails its
      // INSERT first, set-not-null's finding): old inserts never meet this key.
      const all = strings(con.fk_attrs);
      const unfilled = all.some((c) => {
        const model = relation?.columns.get(c);
        return !cols.includes(c) && model !== undefined && !filledOnInsert(ctx.schema, model);
      });
      if (unfilled && con.fk_matchtype !== "f") continue;
      out.push({
        message: `adding FOREIGN KEY on existing ${columnList(target, cols)} referencing ${parent}; writes from the previous generation with unmatched values start failing`,
        span,
      });
    }
    return out;
  },
};
