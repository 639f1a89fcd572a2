import { alterCommands, existingColumn, type Finding, ident, pattern, type Rule, tableName } from "./rule.js";

export const setNotNull: Rule = {
  id: "set-not-null",
  category: "contract",
  defaultSeverity: "error",
  summary: "SET NOT NULL on an existing column the previous generation may leave NULL.",
  hint: "First give the column a DEFAULT and make every generation write it; backfill; then SET NOT NULL (via a validated CHECK (col IS NOT NULL) to avoid the scan) with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_SetNotNull"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      if (cmd.subtype !== "AT_SetNotNull" || cmd.name === undefined) continue;
      const { existing, model } = existingColumn(relation, cmd.name);
      if (!existing || model?.notNull) continue;
      const filled = model?.defaultKey !== undefined || model?.generated === true;
      out.push({
        message: `SET NOT NULL on existing column ${tableName(target)}.${cmd.name}; ${filled ? "old code that writes NULL explicitly" : "INSERTs from the previous generation that omit it"} start failing`,
        span: ctx.find(pattern(`alter\\s+(?:column\\s+)?${ident(cmd.name)}\\s+set\\s+not\\s+null`)),
      });
    }
    return out;
  },
};
