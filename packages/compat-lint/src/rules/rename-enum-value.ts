import type { AlterEnumStmt } from "libpg-query";
import { display, qualified, strings } from "../parse/ast.js";
import { isNew } from "../schema/queries.js";
import type { Rule } from "./rule.js";

export const renameEnumValue: Rule = {
  id: "rename-enum-value",
  category: "contract",
  defaultSeverity: "error",
  summary: "Renaming an enum value the previous generation writes or compares against.",
  hint: "Expand: ADD VALUE the new label and ship code that accepts both and writes the new one; contract in a later change set, once no generation writes the old label: migrate the rows to the new one. Enum values cannot be dropped, so consider a lookup table.",
  kinds: ["AlterEnumStmt"],
  check(ctx) {
    if (ctx.stmt.kind !== "AlterEnumStmt") return [];
    const a = ctx.stmt.body as AlterEnumStmt;
    if (a.oldVal === undefined || a.newVal === undefined) return [];
    const q = qualified(strings(a.typeName));
    const t = ctx.schema.type(q.schema, q.name);
    // A value added by an earlier change set is old: the previous generation may write it by now.
    if (isNew(t) || t?.newValues.get(a.oldVal)?.inChangeSet) return [];
    return [
      {
        message: `renaming value '${a.oldVal}' of enum ${display(q)} to '${a.newVal}'; the previous generation still writes and compares '${a.oldVal}'`,
        span: ctx.find(/rename\s+value/i),
      },
    ];
  },
};
