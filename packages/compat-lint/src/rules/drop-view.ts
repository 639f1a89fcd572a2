import { display } from "../ast.js";
import { isNew } from "../schema/model.js";
import { droppedObjects, type Rule } from "./rule.js";

export const dropView: Rule = {
  id: "drop-view",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a view or materialized view the previous generation may query.",
  hint: "Use CREATE OR REPLACE VIEW for compatible changes; to remove one, stop using it in one deploy and drop it later with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    return droppedObjects(ctx, ["OBJECT_VIEW", "OBJECT_MATVIEW"], (q, d) =>
      isNew(ctx.schema.relation(q.schema, q.name))
        ? undefined
        : {
            message: `dropping ${d.removeType === "OBJECT_MATVIEW" ? "materialized view" : "view"} ${display(q)}; the previous generation may still query it`,
            span: ctx.find(/drop\s+(?:materialized\s+)?view/i),
          },
    );
  },
};
