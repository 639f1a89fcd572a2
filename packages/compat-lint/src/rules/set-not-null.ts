import type { AlterDomainStmt, Constraint } from "libpg-query";
import { display, nodeOf, type QualifiedName, qualified, strings } from "../parse/ast.js";
import type { RelationModel, SchemaModel } from "../schema/model.js";
import { filledOnInsert, isNew, replacedColumn } from "../schema/queries.js";
import { alterCommands, existingColumn, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";
import { shape } from "./shape.js";

const newColumnHint =
  "Old code does not know a column added in this change set, so its INSERTs leave it NULL. Add it NOT NULL with a DEFAULT (one step, no rewrite on Postgres 11+), or tighten it in a later change set once every running generation writes it.";

/**
 * Why making `column` NOT NULL breaks the previous generation, or undefined
 * when it does not. A pre-existing column (or one the model never saw) breaks
 * old code that omits it or writes NULL; a column added in this change set to
 * a pre-existing table breaks old INSERTs, which omit it, unless the database
 * fills it (a DEFAULT, identity or generated column).
 */
function whyItBreaks(
  schema: SchemaModel,
  relation: RelationModel | undefined,
  column: string,
): { why: string; added: boolean } | undefined {
  const { existing, model } = existingColumn(relation, column);
  if (model?.notNull) return undefined;
  const filled = model !== undefined && filledOnInsert(schema, model);
  if (existing) {
    return {
      why: filled
        ? "old code that writes NULL explicitly"
        : "INSERTs from the previous generation that omit it",
      added: false,
    };
  }
  if (model === undefined || filled) return undefined;
  // A replacement for a NOT NULL column old code knew by this name (dropped or renamed away in
  // this change set, as Prisma and hand-written type changes do): old INSERTs already write it.
  const old = replacedColumn(relation, column);
  if (old?.notNull && !filledOnInsert(schema, old)) return undefined;
  return {
    why: "INSERTs from the previous generation, which do not know the column, leave it NULL and",
    added: true,
  };
}

/** The key columns of an added PRIMARY KEY (for USING INDEX, the index's; undefined: an index the model never saw). */
function primaryKeyColumns(
  schema: SchemaModel,
  relation: RelationModel | undefined,
  target: QualifiedName,
  con: Constraint,
): string[] | undefined {
  if (!con.indexname) return strings(con.keys);
  return schema.index(relation?.schema ?? target.schema, con.indexname)?.columns;
}

export const setNotNull: Rule = {
  id: "set-not-null",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "SET NOT NULL (or a PRIMARY KEY, which implies it) on a column the previous generation may leave NULL.",
  hint: "First give the column a DEFAULT and make every generation write it; backfill; then SET NOT NULL (via a validated CHECK (col IS NOT NULL) to avoid the scan) with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_SetNotNull", "AlterTableStmt.AT_AddConstraint", "AlterDomainStmt"],
  check(ctx) {
    if (ctx.stmt.kind === "AlterDomainStmt") {
      // Every column of the domain becomes NOT NULL.
      const a = ctx.stmt.body as AlterDomainStmt;
      const q = qualified(strings(a.typeName));
      if (a.subtype !== "O" || isNew(ctx.schema.type(q.schema, q.name))) return [];
      return [
        {
          message: `SET NOT NULL on domain ${display(q)}; writes from the previous generation that leave a column of this domain NULL start failing`,
          span: ctx.find(/set\s+not\s+null/i),
        },
      ];
    }
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      // A table created in this change set: no old code writes it yet.
      if (isNew(relation)) continue;
      if (cmd.subtype === "AT_SetNotNull" && cmd.name !== undefined) {
        const v = whyItBreaks(ctx.schema, relation, cmd.name);
        if (!v) continue;
        out.push({
          message: v.added
            ? `SET NOT NULL on ${tableName(target)}.${cmd.name}, added in this change set without a DEFAULT; ${v.why} start failing`
            : `SET NOT NULL on existing column ${tableName(target)}.${cmd.name}; ${v.why} start failing`,
          hint: v.added ? newColumnHint : undefined,
          span: ctx.find(shape("alter [column] $ set not null", cmd.name)),
        });
      } else if (cmd.subtype === "AT_AddConstraint") {
        const con = nodeOf<Constraint>(cmd.def, "Constraint");
        if (con?.contype !== "CONSTR_PRIMARY") continue;
        const span = con.location !== undefined ? ctx.at(con.location) : undefined;
        const cols = primaryKeyColumns(ctx.schema, relation, target, con);
        if (cols === undefined) {
          out.push({
            message: `PRIMARY KEY on ${tableName(target)} USING INDEX ${con.indexname} makes the index's columns NOT NULL; the index was created outside the linted files, so they cannot be shown to be NOT NULL already`,
            span,
          });
          continue;
        }
        for (const c of cols) {
          const v = whyItBreaks(ctx.schema, relation, c);
          if (!v) continue;
          out.push({
            message: `PRIMARY KEY on ${tableName(target)} makes ${v.added ? "" : "existing "}column ${c} NOT NULL${v.added ? " (added in this change set without a DEFAULT)" : ""}; ${v.why} start failing`,
            hint: v.added ? newColumnHint : undefined,
            span,
          });
        }
      }
    }
    return out;
  },
};
