import { display } from "../ast.js";
import { isNew } from "../schema/model.js";
import { droppedObjects, type Rule } from "./rule.js";

export const dropType: Rule = {
  id: "drop-type",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a type or domain the previous generation may cast to.",
  hint: "Stop using the type in one deploy (columns, casts, function signatures), then drop it later with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    return droppedObjects(ctx, ["OBJECT_TYPE", "OBJECT_DOMAIN"], (q, d) =>
      isNew(ctx.schema.type(q.schema, q.name))
        ? undefined
        : {
            message: `dropping ${d.removeType === "OBJECT_DOMAIN" ? "domain" : "type"} ${display(q)}; the previous generation may still cast to it`,
            span: ctx.find(/drop\s+(?:type|domain)/i),
          },
    );
  },
};
