import { isNew } from "../schema/queries.js";
import { addedConstraints, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";

export const constraintWithoutNotValid: Rule = {
  id: "constraint-without-not-valid",
  category: "lock",
  defaultSeverity: "warning",
  summary:
    "Adding a FOREIGN KEY or CHECK to an existing table without NOT VALID scans it under a blocking lock.",
  hint: "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a separate statement (it takes a weaker lock).",
  kinds: ["AlterTableStmt.AT_AddConstraint"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { con, target, relation } of addedConstraints(ctx)) {
      if (con.contype !== "CONSTR_FOREIGN" && con.contype !== "CONSTR_CHECK") continue;
      if (con.skip_validation || isNew(relation)) continue;
      const kind = con.contype === "CONSTR_FOREIGN" ? "FOREIGN KEY" : "CHECK";
      out.push({
        message: `adding ${kind} to existing table ${tableName(target)} without NOT VALID validates every row while holding a lock that blocks writes`,
        span: con.location !== undefined ? ctx.at(con.location) : undefined,
      });
    }
    return out;
  },
};
