import { existingColumnCommands, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";
import { shape } from "./shape.js";

export const dropNotNull: Rule = {
  id: "drop-not-null",
  category: "contract",
  defaultSeverity: "error",
  summary: "DROP NOT NULL on an existing column the previous generation reads as never-NULL.",
  hint: "The new generation may now write NULLs that old code does not expect. Ship code that handles NULL first; drop the constraint in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_DropNotNull"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { column, target, model } of existingColumnCommands(ctx, "AT_DropNotNull")) {
      if (model && !model.notNull) continue;
      out.push({
        message: `DROP NOT NULL on ${tableName(target)}.${column}; NULLs written by the new generation reach old code that assumes a value`,
        span: ctx.find(shape("alter [column] $ drop not null", column)),
      });
    }
    return out;
  },
};
