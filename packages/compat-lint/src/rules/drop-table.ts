import type { DropStmt } from "libpg-query";
import { display, objectName } from "../ast.js";
import { isNew } from "../schema/model.js";
import type { Finding, Rule } from "./rule.js";

export const dropTable: Rule = {
  id: "drop-table",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a table the previous generation still uses.",
  hint: "Stop using the table in one deploy; drop it in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    if (ctx.stmt.kind !== "DropStmt") return [];
    const d = ctx.stmt.body as DropStmt;
    if (d.removeType !== "OBJECT_TABLE" && d.removeType !== "OBJECT_FOREIGN_TABLE") return [];
    const out: Finding[] = [];
    for (const o of d.objects ?? []) {
      const q = objectName(o);
      if (isNew(ctx.schema.relation(q.schema, q.name))) continue;
      out.push({
        message: `dropping table ${display(q)}; the previous generation still queries it`,
        span: ctx.find(/drop\s+(?:foreign\s+)?table/i),
      });
    }
    return out;
  },
};
