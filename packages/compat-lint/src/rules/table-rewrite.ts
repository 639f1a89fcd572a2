import type { ColumnDef, Constraint } from "libpg-query";
import { callsVolatile, nodeOf } from "../ast.js";
import { isNew } from "../schema/model.js";
import { formatType, isSerial, sqlType, typeChange } from "../schema/sql-type.js";
import { alterCommands, existingColumn, type Finding, ident, pattern, type Rule, tableName } from "./rule.js";

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
        const to = sqlType(nodeOf<ColumnDef>(cmd.def, "ColumnDef")?.typeName);
        if (model && !typeChange(model.type, to).rewrite) continue;
        out.push({
          message: `changing ${tableName(target)}.${cmd.name} to ${formatType(to)} ${model ? "rewrites" : "may rewrite"} the table and its indexes while reads and writes are blocked`,
          span: ctx.find(pattern(`alter\\s+(?:column\\s+)?${ident(cmd.name)}`)),
        });
      } else if (cmd.subtype === "AT_AddColumn") {
        const def = nodeOf<ColumnDef>(cmd.def, "ColumnDef");
        if (!def?.colname) continue;
        const cons = (def.constraints ?? []).map((c) => nodeOf<Constraint>(c, "Constraint"));
        const dflt = def.raw_default ?? cons.find((c) => c?.contype === "CONSTR_DEFAULT")?.raw_expr;
        const stored = cons.some(
          (c) => c?.contype === "CONSTR_GENERATED" || c?.contype === "CONSTR_IDENTITY",
        );
        const why = stored
          ? "a generated or identity column is computed for every existing row"
          : isSerial(def.typeName) || (dflt !== undefined && callsVolatile(dflt))
            ? "a volatile default is evaluated for every existing row"
            : dflt !== undefined && ctx.pgVersion < 11
              ? "before Postgres 11 any default is written into every existing row"
              : undefined;
        if (!why) continue;
        out.push({
          message: `adding ${tableName(target)}.${def.colname} rewrites the table: ${why}`,
          span: ctx.find(pattern(`add\\s+(?:column\\s+)?(?:if\\s+not\\s+exists\\s+)?${ident(def.colname)}`)),
        });
      }
    }
    return out;
  },
};
