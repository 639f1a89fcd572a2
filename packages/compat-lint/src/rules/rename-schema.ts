import type { RenameStmt } from "libpg-query";
import type { Rule } from "./rule.js";

export const renameSchema: Rule = {
  id: "rename-schema",
  category: "contract",
  defaultSeverity: "error",
  summary: "Renaming a schema the previous generation qualifies names with or has on its search_path.",
  hint: "Create the new schema and move objects one expand/contract step at a time; keep the old schema until no generation references it.",
  kinds: ["RenameStmt"],
  check(ctx) {
    if (ctx.stmt.kind !== "RenameStmt") return [];
    const r = ctx.stmt.body as RenameStmt;
    if (r.renameType !== "OBJECT_SCHEMA" || r.subname === undefined) return [];
    if (ctx.schema.schemas.get(r.subname)?.inChangeSet) return [];
    return [
      {
        message: `renaming schema ${r.subname} to ${r.newname}; every name the previous generation qualifies with it stops resolving`,
        span: ctx.find(/rename\s+to/i),
      },
    ];
  },
};
