import type { DropStmt } from "libpg-query";
import { display, objectName } from "../ast.js";
import { isNew } from "../schema/model.js";
import type { Finding, Rule } from "./rule.js";

export const dropType: Rule = {
  id: "drop-type",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a type or domain the previous generation may cast to.",
  hint: "Stop using the type in one deploy (columns, casts, function signatures), then drop it later with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    if (ctx.stmt.kind !== "DropStmt") return [];
    const d = ctx.stmt.body as DropStmt;
    if (d.removeType !== "OBJECT_TYPE" && d.removeType !== "OBJECT_DOMAIN") return [];
    const out: Finding[] = [];
    for (const o of d.objects ?? []) {
      const q = objectName(o);
      if (isNew(ctx.schema.type(q.schema, q.name))) continue;
      out.push({
        message: `dropping ${d.removeType === "OBJECT_DOMAIN" ? "domain" : "type"} ${display(q)}; the previous generation may still cast to it`,
        span: ctx.find(/drop\s+(?:type|domain)/i),
      });
    }
    return out;
  },
};
