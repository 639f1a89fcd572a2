import type { ColumnDef, Constraint } from "libpg-query";
import { nodeOf, qualified, strings } from "../parse/ast.js";
import { filledOnInsert, isNew, replacedColumn } from "../schema/queries.js";
import { formatType, sqlType, typeChange } from "../schema/sql-type.js";
import { alterCommands, columnDefFilled, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";
import { shape } from "./shape.js";

export const addRequiredColumn: Rule = {
  id: "add-required-column",
  category: "contract",
  defaultSeverity: "error",
  summary: "Adding a NOT NULL column without a DEFAULT to an existing table.",
  hint: "Add the column nullable (or NOT NULL with a DEFAULT) so old INSERTs that omit it keep working; tighten it only after every generation writes it.",
  kinds: ["AlterTableStmt.AT_AddColumn"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      if (cmd.subtype !== "AT_AddColumn") continue;
      if (isNew(relation)) continue;
      const def = nodeOf<ColumnDef>(cmd.def, "ColumnDef");
      if (!def?.colname) continue;
      const constraints = (def.constraints ?? []).flatMap((c) => nodeOf<Constraint>(c, "Constraint") ?? []);
      const cons = constraints.map((c) => c.contype);
      // A domain declared NOT NULL rejects the NULL just the same, and its DEFAULT fills the column.
      const tq = qualified(strings(def.typeName?.names));
      const domain = ctx.schema.type(tq.schema, tq.name);
      // Not an array of it: the domain's NOT NULL applies to the elements, the array may be NULL.
      const viaDomain = domain?.kind === "domain" && domain.notNull && !def.typeName?.arrayBounds?.length;
      const notNull =
        def.is_not_null === true ||
        cons.includes("CONSTR_NOTNULL") ||
        cons.includes("CONSTR_PRIMARY") ||
        viaDomain;
      // DEFAULT NULL is no default: old INSERTs that omit the column still write NULL.
      if (!notNull || columnDefFilled(ctx.schema, def)) continue;
      // Re-adding a NOT NULL column old code knew by this name (dropped earlier in the change
      // set, to change its type): old INSERTs write it; the drop is drop-column's finding.
      const old = replacedColumn(relation, def.colname);
      if (old?.notNull && !filledOnInsert(ctx.schema, old)) {
        const change = typeChange(old.type, sqlType(def.typeName));
        if (change.compatible) continue;
        out.push({
          message: `re-adding NOT NULL column ${tableName(target)}.${def.colname} without a DEFAULT as ${formatType(sqlType(def.typeName))} (it was ${formatType(old.type)}); INSERTs from the previous generation still write it, but ${change.why}`,
          span: ctx.find(shape("add [column] [if not exists] $", def.colname)),
        });
        continue;
      }
      out.push({
        message: `adding NOT NULL column ${tableName(target)}.${def.colname} without a DEFAULT${def.is_not_null !== true && !cons.includes("CONSTR_NOTNULL") && !cons.includes("CONSTR_PRIMARY") ? ` (its domain ${domain?.name} is NOT NULL)` : ""}; INSERTs from the previous generation omit it and fail`,
        span: ctx.find(shape("add [column] [if not exists] $", def.colname)),
      });
    }
    return out;
  },
};
