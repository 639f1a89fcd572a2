import { alterCommands, existingColumn, type Finding, ident, pattern, type Rule, tableName } from "./rule.js";

export const dropColumn: Rule = {
  id: "drop-column",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a column the previous generation still reads or writes.",
  hint: "Contract in two deploys: ship code that no longer uses the column, then drop it in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_DropColumn"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      if (cmd.subtype !== "AT_DropColumn" || cmd.name === undefined) continue;
      if (!existingColumn(relation, cmd.name).existing) continue;
      out.push({
        message: `dropping column ${tableName(target)}.${cmd.name}; the previous generation still selects and inserts it`,
        span: ctx.find(pattern(`drop\\s+(?:column\\s+)?(?:if\\s+exists\\s+)?${ident(cmd.name)}`)),
      });
    }
    return out;
  },
};
