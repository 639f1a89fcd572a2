import type { DropStmt } from "libpg-query";
import { display, objectName } from "../ast.js";
import { isNew } from "../schema/model.js";
import type { Finding, Rule } from "./rule.js";

export const dropFunction: Rule = {
  id: "drop-function",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a function or procedure the previous generation may call.",
  hint: "Create the replacement under a new name or signature, move every caller, then drop the old one in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    if (ctx.stmt.kind !== "DropStmt") return [];
    const d = ctx.stmt.body as DropStmt;
    if (
      d.removeType !== "OBJECT_FUNCTION" &&
      d.removeType !== "OBJECT_PROCEDURE" &&
      d.removeType !== "OBJECT_ROUTINE"
    ) {
      return [];
    }
    const out: Finding[] = [];
    for (const o of d.objects ?? []) {
      const q = objectName(o);
      if (isNew(ctx.schema.func(q.schema, q.name))) continue;
      out.push({
        message: `dropping function ${display(q)}; the previous generation (or a trigger it fires) may still call it`,
        span: ctx.find(/drop\s+(?:function|procedure|routine)/i),
      });
    }
    return out;
  },
};
