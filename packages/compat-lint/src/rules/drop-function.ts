import { display } from "../ast.js";
import { isNew } from "../schema/model.js";
import { droppedObjects, movedObject, type Rule } from "./rule.js";

const functionTypes = ["OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE"];

export const dropFunction: Rule = {
  id: "drop-function",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "Dropping a function or procedure the previous generation may call, or renaming it or moving it to another schema.",
  hint: "Create the replacement under a new name or signature, move every caller, then drop the old one in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt", "RenameStmt", "AlterObjectSchemaStmt"],
  check(ctx) {
    // A rename or a move is a drop for callers: the old name stops resolving.
    const moved = movedObject(ctx, functionTypes);
    if (moved) {
      if (isNew(ctx.schema.func(moved.name.schema, moved.name.name))) return [];
      return [
        {
          message: `${moved.action}; the previous generation (or a trigger it fires) still calls it by its old name`,
          hint: "Create the function under its new name (or schema) beside the old one, keeping the old as a wrapper that calls the new; move every caller; drop the old one in a later change set with `-- compat: breaking (reason: ...)`.",
          span: ctx.find(/rename\s+to|set\s+schema/i),
        },
      ];
    }
    return droppedObjects(ctx, functionTypes, (q) =>
      isNew(ctx.schema.func(q.schema, q.name))
        ? undefined
        : {
            message: `dropping function ${display(q)}; the previous generation (or a trigger it fires) may still call it`,
            span: ctx.find(/drop\s+(?:function|procedure|routine)/i),
          },
    );
  },
};
