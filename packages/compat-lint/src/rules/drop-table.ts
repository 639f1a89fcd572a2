import { display } from "../ast.js";
import { isNew } from "../schema/model.js";
import { droppedObjects, type Rule } from "./rule.js";

export const dropTable: Rule = {
  id: "drop-table",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a table or sequence the previous generation still uses.",
  hint: "Stop using the table in one deploy; drop it in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    return droppedObjects(ctx, ["OBJECT_TABLE", "OBJECT_FOREIGN_TABLE", "OBJECT_SEQUENCE"], (q, d) =>
      isNew(ctx.schema.relation(q.schema, q.name))
        ? undefined
        : d.removeType === "OBJECT_SEQUENCE"
          ? {
              message: `dropping sequence ${display(q)}; the previous generation may still call nextval() on it or insert through a column default that uses it`,
              span: ctx.find(/drop\s+sequence/i),
            }
          : {
              message: `dropping table ${display(q)}; the previous generation still queries it`,
              span: ctx.find(/drop\s+(?:foreign\s+)?table/i),
            },
    );
  },
};
