import { display } from "../parse/ast.js";
import { key } from "../schema/model.js";
import { isNew } from "../schema/queries.js";
import { droppedObjects, movedObject } from "./helpers.js";
import type { Rule } from "./rule.js";

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
      const f = ctx.schema.func(moved.name.schema, moved.name.name);
      // Triggers name their function by OID and follow a rename; no code calls a trigger function.
      if (isNew(f) || f?.trigger) return [];
      return [
        {
          message: `${moved.action}; the previous generation (or a trigger it fires) still calls it by its old name`,
          hint: "Create the function under its new name (or schema) beside the old one, keeping the old as a wrapper that calls the new; move every caller; drop the old one in a later change set with `-- compat: breaking (reason: ...)`.",
          span: ctx.find(/rename\s+to|set\s+schema/i),
        },
      ];
    }
    return droppedObjects(ctx, functionTypes, (q, d) => {
      const f = ctx.schema.func(q.schema, q.name);
      // IF EXISTS of a name the replayed history never created (or already dropped or renamed
      // away): the author says it may not exist, and in the linted history it does not. An
      // exception to "unknown means old", which holds when the statement needs the object.
      if (isNew(f) || (f === undefined && d.missing_ok)) return undefined;
      // A trigger function: no code calls it; what old code relies on is what its triggers do.
      // Postgres drops it only once no trigger uses it (or CASCADE drops them), so it is judged
      // by the triggers that ran it at the start of the change set: each must be back (same
      // table, same name, running some function) by the end of it.
      if (f?.trigger) {
        const fk = key(f.schema, f.name);
        const ran = [
          ...ctx.schema.triggers.values(),
          ...ctx.schema.droppedTriggers.filter((x) => x.by.inChangeSet).map((x) => x.trigger),
        ].filter((t) => t.func === fk && !isNew(t));
        if (ran.length > 0) {
          const names = ran.map((t) => `${t.name} on ${t.relation.replace(/^public\./, "")}`).join(", ");
          return {
            message: `dropping trigger function ${display(q)}; its trigger${ran.length > 1 ? "s" : ""} ${names} ${ran.length > 1 ? "are" : "is"} gone with it, so what ${ran.length > 1 ? "they" : "it"} did on the previous generation's writes no longer happens`,
            hint: "Keep the trigger (pointed at a replacement function if need be) while any generation relies on what it does; drop it in a later change set with `-- compat: breaking (reason: ...)`.",
            span: ctx.find(/drop\s+(?:function|procedure|routine)/i),
            withdrawnIf: (end) => ran.every((t) => end.triggers.has(`${t.relation}\0${t.name}`)),
          };
        }
      }
      return {
        message: `dropping function ${display(q)}; the previous generation (or a trigger it fires) may still call it`,
        span: ctx.find(/drop\s+(?:function|procedure|routine)/i),
      };
    });
  },
};
