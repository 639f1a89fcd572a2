import { existingColumnCommands, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";
import { shape } from "./shape.js";

export const dropColumn: Rule = {
  id: "drop-column",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a column the previous generation still reads or writes.",
  hint: "Contract in two deploys: ship code that no longer uses the column, then drop it in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_DropColumn"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { column, target } of existingColumnCommands(ctx, "AT_DropColumn")) {
      out.push({
        message: `dropping column ${tableName(target)}.${column}; the previous generation still selects and inserts it`,
        span: ctx.find(shape("drop [column] [if exists] $", column)),
      });
    }
    return out;
  },
};
