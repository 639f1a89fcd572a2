import { existingColumnCommands, type Finding, ident, pattern, type Rule, tableName } from "./rule.js";

export const setNotNull: Rule = {
  id: "set-not-null",
  category: "contract",
  defaultSeverity: "error",
  summary: "SET NOT NULL on an existing column the previous generation may leave NULL.",
  hint: "First give the column a DEFAULT and make every generation write it; backfill; then SET NOT NULL (via a validated CHECK (col IS NOT NULL) to avoid the scan) with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_SetNotNull"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { column, target, model } of existingColumnCommands(ctx, "AT_SetNotNull")) {
      if (model?.notNull) continue;
      const filled = model?.defaultKey !== undefined || model?.generated === true;
      out.push({
        message: `SET NOT NULL on existing column ${tableName(target)}.${column}; ${filled ? "old code that writes NULL explicitly" : "INSERTs from the previous generation that omit it"} start failing`,
        span: ctx.find(pattern(`alter\\s+(?:column\\s+)?${ident(column)}\\s+set\\s+not\\s+null`)),
      });
    }
    return out;
  },
};
