import { existingColumnCommands, type Finding, ident, pattern, type Rule, tableName } from "./rule.js";

export const dropDefault: Rule = {
  id: "drop-default",
  category: "contract",
  defaultSeverity: "error",
  summary: "DROP DEFAULT on an existing column the previous generation relies on when it omits the column.",
  hint: "Keep the default until no generation omits the column on INSERT; drop it in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_ColumnDefault"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, column, target, model } of existingColumnCommands(ctx, "AT_ColumnDefault")) {
      if (cmd.def !== undefined || (model && model.defaultKey === undefined)) continue;
      const consequence = model?.notNull
        ? "INSERTs from the previous generation that omit it now fail the NOT NULL constraint"
        : "INSERTs from the previous generation that omit it now store NULL";
      out.push({
        message: `dropping the default of ${tableName(target)}.${column}; ${consequence}`,
        span: ctx.find(pattern(`alter\\s+(?:column\\s+)?${ident(column)}\\s+drop\\s+default`)),
      });
    }
    return out;
  },
};
