import type { DropStmt } from "libpg-query";
import { objectName } from "../ast.js";
import type { Finding, Rule } from "./rule.js";

export const dropSchema: Rule = {
  id: "drop-schema",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a schema, and with CASCADE everything in it.",
  hint: "Empty the schema one expand/contract step at a time; drop it once no generation references it, with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    if (ctx.stmt.kind !== "DropStmt") return [];
    const d = ctx.stmt.body as DropStmt;
    if (d.removeType !== "OBJECT_SCHEMA") return [];
    const out: Finding[] = [];
    for (const o of d.objects ?? []) {
      const name = objectName(o).name;
      if (ctx.schema.schemas.get(name)?.inChangeSet) continue;
      out.push({
        message: `dropping schema ${name}${d.behavior === "DROP_CASCADE" ? " with CASCADE" : ""}; the previous generation may still use objects in it`,
        span: ctx.find(/drop\s+schema/i),
      });
    }
    return out;
  },
};
