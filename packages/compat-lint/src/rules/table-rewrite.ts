import type { ColumnDef, Constraint, Node } from "libpg-query";
import { callsVolatile, nodeOf, qualified, strings } from "../parse/ast.js";
import type { FunctionModel, SchemaModel } from "../schema/model.js";
import { isNew } from "../schema/queries.js";
import { formatType, isSerial, type SqlType, sameType, sqlType, typeChange } from "../schema/sql-type.js";
import { alterCommands, existingColumn, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";
import { shape } from "./shape.js";

/**
 * Whether ALTER COLUMN ... TYPE ... USING expr is just the column (or the
 * column cast to the new type), which Postgres treats like no USING at all.
 * Anything else is computed for every row: a rewrite.
 */
function plainUsing(expr: Node | undefined, column: string, to: SqlType): boolean {
  if (expr === undefined) return true;
  const cast = nodeOf<{ arg?: Node; typeName?: never }>(expr, "TypeCast");
  if (cast) return sameType(sqlType(cast.typeName), to) && plainUsing(cast.arg, column, to);
  const f = strings(nodeOf<{ fields?: Node[] }>(expr, "ColumnRef")?.fields);
  return f.length > 0 && f[f.length - 1] === column;
}

/**
 * A function the linted migrations created, called by an expression, that is
 * VOLATILE (what CREATE FUNCTION declares when it says nothing): as an added
 * column's default it is evaluated for every existing row. Built-in and
 * extension functions are not in the model; callsVolatile knows the usual ones.
 */
function volatileUserFunction(schema: SchemaModel, node: unknown): FunctionModel | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const f = volatileUserFunction(schema, n);
      if (f) return f;
    }
  } else if (node && typeof node === "object") {
    const call = (node as { FuncCall?: { funcname?: Node[] } }).FuncCall;
    if (call) {
      const q = qualified(strings(call.funcname));
      const f = schema.func(q.schema, q.name);
      if (f?.volatility === "volatile") return f;
    }
    for (const v of Object.values(node)) {
      const f = volatileUserFunction(schema, v);
      if (f) return f;
    }
  }
  return undefined;
}

export const tableRewrite: Rule = {
  id: "table-rewrite",
  category: "lock",
  defaultSeverity: "warning",
  summary: "A change that rewrites an existing table (and its indexes) under an ACCESS EXCLUSIVE lock.",
  hint: "Add a new column instead and backfill it in batches; for defaults, add the column without one (or with a constant) and backfill.",
  kinds: ["AlterTableStmt.AT_AlterColumnType", "AlterTableStmt.AT_AddColumn"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      if (isNew(relation)) continue;
      if (cmd.subtype === "AT_AlterColumnType" && cmd.name !== undefined) {
        const { existing, model } = existingColumn(relation, cmd.name);
        if (!existing) continue;
        const def = nodeOf<ColumnDef>(cmd.def, "ColumnDef");
        const to = sqlType(def?.typeName);
        // USING is in the ColumnDef's raw_default.
        if (!plainUsing(def?.raw_default, cmd.name, to)) {
          out.push({
            message: `changing ${tableName(target)}.${cmd.name} to ${formatType(to)} with a USING expression computes it for every row: the table and its indexes are rewritten while reads and writes are blocked`,
            span: ctx.find(shape("alter [column] $", cmd.name)),
          });
          continue;
        }
        const known = model !== undefined && model.type.name !== "";
        if (known && !typeChange(model.type, to).rewrite) continue;
        out.push({
          message: `changing ${tableName(target)}.${cmd.name} to ${formatType(to)} ${known ? "rewrites" : "may rewrite"} the table and its indexes while reads and writes are blocked`,
          span: ctx.find(shape("alter [column] $", cmd.name)),
        });
      } else if (cmd.subtype === "AT_AddColumn") {
        const def = nodeOf<ColumnDef>(cmd.def, "ColumnDef");
        if (!def?.colname) continue;
        const cons = (def.constraints ?? []).map((c) => nodeOf<Constraint>(c, "Constraint"));
        const dflt = def.raw_default ?? cons.find((c) => c?.contype === "CONSTR_DEFAULT")?.raw_expr;
        const stored = cons.some(
          (c) => c?.contype === "CONSTR_GENERATED" || c?.contype === "CONSTR_IDENTITY",
        );
        const userFn = dflt !== undefined ? volatileUserFunction(ctx.schema, dflt) : undefined;
        const why = stored
          ? "a generated or identity column is computed for every existing row"
          : isSerial(def.typeName) || (dflt !== undefined && callsVolatile(dflt))
            ? "a volatile default is evaluated for every existing row"
            : userFn
              ? `its default calls ${userFn.name}(), declared VOLATILE (CREATE FUNCTION's default), so it is evaluated for every existing row${userFn.language === "sql" ? " (unless Postgres inlines the SQL function to a constant; declare it STABLE or IMMUTABLE if it is)" : ""}`
              : dflt !== undefined && ctx.pgVersion < 11
                ? "before Postgres 11 any default is written into every existing row"
                : undefined;
        if (!why) continue;
        out.push({
          message: `adding ${tableName(target)}.${def.colname} rewrites the table: ${why}`,
          span: ctx.find(shape("add [column] [if not exists] $", def.colname)),
        });
      }
    }
    return out;
  },
};
