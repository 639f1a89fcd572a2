import { isNew } from "../schema/queries.js";
import { addedConstraints, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";

export const addConstraintBuildsIndex: Rule = {
  id: "add-constraint-builds-index",
  category: "lock",
  defaultSeverity: "warning",
  summary:
    "ADD UNIQUE / PRIMARY KEY without USING INDEX, or ADD EXCLUDE, builds the index under an ACCESS EXCLUSIVE lock.",
  hint: "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX.",
  kinds: ["AlterTableStmt.AT_AddConstraint"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { con, target, relation } of addedConstraints(ctx)) {
      const exclude = con.contype === "CONSTR_EXCLUSION";
      if (con.contype !== "CONSTR_UNIQUE" && con.contype !== "CONSTR_PRIMARY" && !exclude) continue;
      if (con.indexname || isNew(relation)) continue;
      out.push({
        message: `adding ${exclude ? "EXCLUDE" : con.contype === "CONSTR_PRIMARY" ? "PRIMARY KEY" : "UNIQUE"} to existing table ${tableName(target)} builds its index while reads and writes are blocked`,
        hint: exclude
          ? "An exclusion constraint cannot be added USING INDEX, so its index is always built under the lock: add it while the table is small or in a maintenance window, or enforce the rule another way (a unique index built CONCURRENTLY over a normalised key)."
          : undefined,
        span: con.location !== undefined ? ctx.at(con.location) : undefined,
      });
    }
    return out;
  },
};
