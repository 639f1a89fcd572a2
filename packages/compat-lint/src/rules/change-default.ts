import { defaultKey } from "../schema/queries.js";
import { existingColumnCommands, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";
import { shape } from "./shape.js";

export const changeDefault: Rule = {
  id: "change-default",
  category: "contract",
  defaultSeverity: "error",
  summary: "Changing an existing column's default to a different expression.",
  hint: "Old INSERTs that omit the column silently get the new value. Have every generation write the value explicitly first, then change the default.",
  kinds: ["AlterTableStmt.AT_ColumnDefault"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, column, target, model } of existingColumnCommands(ctx, "AT_ColumnDefault")) {
      if (cmd.def === undefined) continue;
      // Adding a default where there was none is the expand step; only a replaced default changes old writes.
      // A column the model never saw may have one: unknown means old.
      if (model && (model.defaultKey === undefined || model.defaultKey === defaultKey(cmd.def, model.type)))
        continue;
      out.push({
        message: model
          ? `changing the default of ${tableName(target)}.${column}; rows the previous generation inserts without it get a different value`
          : `setting the default of ${tableName(target)}.${column}, whose current default is unknown (created outside the linted files); rows the previous generation inserts without it may get a different value`,
        span: ctx.find(shape("alter [column] $ set default", column)),
      });
    }
    return out;
  },
};
