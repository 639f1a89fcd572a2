import type { RenameStmt } from "libpg-query";
import { display, fromRangeVar } from "../parse/ast.js";
import { indexConstraint, indexKinds, isNew } from "../schema/queries.js";
import { tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";
import { shape } from "./shape.js";

const kindLabels: Record<string, string> = { primary: "PRIMARY KEY", unique: "UNIQUE", exclusion: "EXCLUDE" };

/** Postgres' names for the constraints ON CONFLICT cannot name (CHECK, FOREIGN KEY). */
const notAnArbiter = /_(?:check|fkey)\d*$/;
/** Postgres' names for the index of a PRIMARY KEY / UNIQUE / EXCLUDE constraint. */
const constraintIndexName = /_(?:pkey|key|excl)\d*$/;

export const renameConstraint: Rule = {
  id: "rename-constraint",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "Renaming a PRIMARY KEY, UNIQUE or EXCLUDE constraint (or the index behind one) the previous generation's ON CONFLICT ON CONSTRAINT may name.",
  hint: "Keep the constraint's name; if it must change, first move every generation to ON CONFLICT (columns), then rename it in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["RenameStmt"],
  check(ctx) {
    if (ctx.stmt.kind !== "RenameStmt") return [];
    const r = ctx.stmt.body as RenameStmt;
    const q = fromRangeVar(r.relation);
    if (r.renameType === "OBJECT_TABCONSTRAINT" && r.subname !== undefined) {
      const rel = ctx.schema.relation(q.schema, q.name);
      if (isNew(rel)) return [];
      const con = rel?.constraints.get(r.subname);
      if (con ? isNew(con) || !indexKinds.has(con.kind) : notAnArbiter.test(r.subname)) return [];
      const f: Finding = {
        message: `renaming ${con ? `${kindLabels[con.kind]} ` : ""}constraint ${r.subname} of ${tableName(q)} to ${r.newname}; the previous generation's INSERT ... ON CONFLICT ON CONSTRAINT ${r.subname} ${con ? "starts" : "may start"} failing`,
        span: ctx.find(shape("rename constraint $", r.subname)),
      };
      return [f];
    }
    if (r.renameType === "OBJECT_INDEX") {
      const owner = indexConstraint(ctx.schema, q);
      if (owner) {
        if (isNew(owner.relation) || isNew(owner.constraint)) return [];
        return [
          {
            message: `renaming index ${display(q)} renames ${kindLabels[owner.constraint.kind]} constraint ${owner.constraint.name} of ${owner.relation.name} to ${r.newname}; the previous generation's INSERT ... ON CONFLICT ON CONSTRAINT ${owner.constraint.name} starts failing`,
            span: ctx.find(/rename\s+to/i),
          },
        ];
      }
      // A plain index: ON CONFLICT infers indexes by their columns, never by name.
      if (ctx.schema.index(q.schema, q.name) || !constraintIndexName.test(q.name)) return [];
      return [
        {
          message: `renaming index ${display(q)}, named like the index of a PRIMARY KEY / UNIQUE constraint the linter never saw; renaming it renames the constraint, and the previous generation's ON CONFLICT ON CONSTRAINT ${q.name} may start failing`,
          span: ctx.find(/rename\s+to/i),
        },
      ];
    }
    return [];
  },
};
