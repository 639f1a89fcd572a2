import type { ColumnDef } from "libpg-query";
import { nodeOf } from "../ast.js";
import { formatType, sqlType, typeChange } from "../schema/sql-type.js";
import { existingColumnCommands, type Finding, ident, pattern, type Rule, tableName } from "./rule.js";

export const incompatibleTypeChange: Rule = {
  id: "incompatible-type-change",
  category: "contract",
  defaultSeverity: "error",
  summary: "Changing a column's type to one that old code cannot write or reads differently.",
  hint: "Expand/contract: add a column of the new type, write both from the new generation, backfill, switch reads, and drop the old column later.",
  kinds: ["AlterTableStmt.AT_AlterColumnType"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, column, target, model } of existingColumnCommands(ctx, "AT_AlterColumnType")) {
      const to = sqlType(nodeOf<ColumnDef>(cmd.def, "ColumnDef")?.typeName);
      // Located only when reported: most type changes in a history are compatible.
      const span = () => ctx.find(pattern(`alter\\s+(?:column\\s+)?${ident(column)}`));
      if (!model || model.type.name === "") {
        out.push({
          message: `changing the type of ${tableName(target)}.${column} to ${formatType(to)}; its current type is unknown (created outside the linted files), so compatibility cannot be shown`,
          span: span(),
        });
        continue;
      }
      const v = typeChange(model.type, to);
      if (v.compatible) continue;
      out.push({
        message: `changing ${tableName(target)}.${column} from ${formatType(model.type)} to ${formatType(to)} breaks the previous generation: ${v.why}`,
        span: span(),
      });
    }
    return out;
  },
};
