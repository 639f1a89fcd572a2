import { display } from "../ast.js";
import { isNew } from "../schema/model.js";
import { droppedObjects, type Rule } from "./rule.js";

export const dropTable: Rule = {
  id: "drop-table",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a table the previous generation still uses.",
  hint: "Stop using the table in one deploy; drop it in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    return droppedObjects(ctx, ["OBJECT_TABLE", "OBJECT_FOREIGN_TABLE"], (q) =>
      isNew(ctx.schema.relation(q.schema, q.name))
        ? undefined
        : {
            message: `dropping table ${display(q)}; the previous generation still queries it`,
            span: ctx.find(/drop\s+(?:foreign\s+)?table/i),
          },
    );
  },
};
