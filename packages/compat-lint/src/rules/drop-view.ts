import type { DropStmt } from "libpg-query";
import { display, objectName } from "../ast.js";
import { isNew } from "../schema/model.js";
import type { Finding, Rule } from "./rule.js";

export const dropView: Rule = {
  id: "drop-view",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a view or materialized view the previous generation may query.",
  hint: "Use CREATE OR REPLACE VIEW for compatible changes; to remove one, stop using it in one deploy and drop it later with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    if (ctx.stmt.kind !== "DropStmt") return [];
    const d = ctx.stmt.body as DropStmt;
    if (d.removeType !== "OBJECT_VIEW" && d.removeType !== "OBJECT_MATVIEW") return [];
    const out: Finding[] = [];
    for (const o of d.objects ?? []) {
      const q = objectName(o);
      if (isNew(ctx.schema.relation(q.schema, q.name))) continue;
      const what = d.removeType === "OBJECT_MATVIEW" ? "materialized view" : "view";
      out.push({
        message: `dropping ${what} ${display(q)}; the previous generation may still query it`,
        span: ctx.find(/drop\s+(?:materialized\s+)?view/i),
      });
    }
    return out;
  },
};
