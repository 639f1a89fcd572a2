import { droppedObjects } from "./helpers.js";
import type { Rule } from "./rule.js";

export const dropSchema: Rule = {
  id: "drop-schema",
  category: "contract",
  defaultSeverity: "error",
  summary: "Dropping a schema, and with CASCADE everything in it.",
  hint: "Empty the schema one expand/contract step at a time; drop it once no generation references it, with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    return droppedObjects(ctx, ["OBJECT_SCHEMA"], ({ name }, d) =>
      ctx.schema.schemas.get(name)?.inChangeSet
        ? undefined
        : {
            message: `dropping schema ${name}${d.behavior === "DROP_CASCADE" ? " with CASCADE" : ""}; the previous generation may still use objects in it`,
            span: ctx.find(/drop\s+schema/i),
          },
    );
  },
};
