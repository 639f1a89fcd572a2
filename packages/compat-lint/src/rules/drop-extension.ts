import { droppedObjects } from "./helpers.js";
import type { Rule } from "./rule.js";

export const dropExtension: Rule = {
  id: "drop-extension",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "Dropping an extension whose functions, types or operators the previous generation may use; with CASCADE also every column, default, index and view built on them.",
  hint: "Stop using the extension's functions and types in one deploy (and move columns off its types), then drop it later with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt"],
  check(ctx) {
    return droppedObjects(ctx, ["OBJECT_EXTENSION"], (q, d) => {
      if (ctx.schema.extensions.get(q.name)?.inChangeSet) return undefined;
      return {
        message:
          d.behavior === "DROP_CASCADE"
            ? `dropping extension ${q.name} with CASCADE; it also drops every column of its types and every default, index, constraint and view that uses it, and the previous generation may still call its functions`
            : `dropping extension ${q.name}; the previous generation may still call its functions or cast to its types`,
        span: ctx.find(/drop\s+extension/i),
      };
    });
  },
};
