import { display } from "../ast.js";
import { isNew } from "../schema/model.js";
import { droppedObjects, movedObject, type Rule } from "./rule.js";

const typeTypes = ["OBJECT_TYPE", "OBJECT_DOMAIN"];

export const dropType: Rule = {
  id: "drop-type",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "Dropping a type or domain the previous generation may cast to, or renaming it or moving it to another schema.",
  hint: "Stop using the type in one deploy (columns, casts, function signatures), then drop it later with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt", "RenameStmt", "AlterObjectSchemaStmt"],
  check(ctx) {
    // A rename or a move is a drop for old casts (`$1::order_status`): the old name stops resolving.
    const moved = movedObject(ctx, typeTypes);
    if (moved) {
      if (isNew(ctx.schema.type(moved.name.schema, moved.name.name))) return [];
      return [
        {
          message: `${moved.action}; the previous generation still casts to it by its old name`,
          hint: "Stop naming the type in code (casts, function signatures) in one deploy, then rename or move it in a later change set with `-- compat: breaking (reason: ...)`.",
          span: ctx.find(/rename\s+to|set\s+schema/i),
        },
      ];
    }
    return droppedObjects(ctx, typeTypes, (q, d) =>
      isNew(ctx.schema.type(q.schema, q.name))
        ? undefined
        : {
            message: `dropping ${d.removeType === "OBJECT_DOMAIN" ? "domain" : "type"} ${display(q)}; the previous generation may still cast to it`,
            span: ctx.find(/drop\s+(?:type|domain)/i),
          },
    );
  },
};
