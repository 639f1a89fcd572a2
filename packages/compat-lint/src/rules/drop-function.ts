import { display } from "../ast.js";
import { isNew } from "../schema/model.js";
import { droppedObjects, type Rule } from "./rule.js";

export const dropFunction: Rule = {
  id: "drop-function",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a function or procedure the previous generation may call.",
  hint: "Create the replacement under a new name or signature, move every caller, then drop the old one in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    return droppedObjects(ctx, ["OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE"], (q) =>
      isNew(ctx.schema.func(q.schema, q.name))
        ? undefined
        : {
            message: `dropping function ${display(q)}; the previous generation (or a trigger it fires) may still call it`,
            span: ctx.find(/drop\s+(?:function|procedure|routine)/i),
          },
    );
  },
};
