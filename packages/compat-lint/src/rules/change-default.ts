import { exprKey } from "../ast.js";
import { alterCommands, existingColumn, type Finding, ident, pattern, type Rule, tableName } from "./rule.js";

export const changeDefault: Rule = {
  id: "change-default",
  category: "contract",
  defaultSeverity: "error",
  summary: "Changing an existing column's default to a different expression.",
  hint: "Old INSERTs that omit the column silently get the new value. Have every generation write the value explicitly first, then change the default.",
  kinds: ["AlterTableStmt.AT_ColumnDefault"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      if (cmd.subtype !== "AT_ColumnDefault" || cmd.def === undefined || cmd.name === undefined) continue;
      const { existing, model } = existingColumn(relation, cmd.name);
      // Adding a default where there was none is the expand step; only a replaced default changes old writes.
      if (!existing || model?.defaultKey === undefined) continue;
      if (model.defaultKey === exprKey(cmd.def)) continue;
      out.push({
        message: `changing the default of ${tableName(target)}.${cmd.name}; rows the previous generation inserts without it get a different value`,
        span: ctx.find(pattern(`alter\\s+(?:column\\s+)?${ident(cmd.name)}\\s+set\\s+default`)),
      });
    }
    return out;
  },
};
