import { isNew } from "../schema/model.js";
import { addedConstraints, type Finding, type Rule, tableName } from "./rule.js";

export const addConstraintBuildsIndex: Rule = {
  id: "add-constraint-builds-index",
  category: "lock",
  defaultSeverity: "warning",
  summary: "ADD UNIQUE / PRIMARY KEY without USING INDEX builds the index under an ACCESS EXCLUSIVE lock.",
  hint: "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX.",
  kinds: ["AlterTableStmt.AT_AddConstraint"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { con, target, relation } of addedConstraints(ctx)) {
      if (con.contype !== "CONSTR_UNIQUE" && con.contype !== "CONSTR_PRIMARY") continue;
      if (con.indexname || isNew(relation)) continue;
      out.push({
        message: `adding ${con.contype === "CONSTR_PRIMARY" ? "PRIMARY KEY" : "UNIQUE"} to existing table ${tableName(target)} builds its index while reads and writes are blocked`,
        span: con.location !== undefined ? ctx.at(con.location) : undefined,
      });
    }
    return out;
  },
};
