import { constraintColumns } from "../schema/replay.js";
import { addedConstraints, columnList, existingColumns, type Finding, type Rule } from "./rule.js";

export const checkOnExistingColumn: Rule = {
  id: "check-on-existing-column",
  category: "contract",
  defaultSeverity: "error",
  summary: "Adding a CHECK constraint over columns the previous generation writes.",
  hint: "NOT VALID only skips checking old rows; new writes from old code are still checked. Make every generation write conforming values first, then add the CHECK with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_AddConstraint"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { con, target, relation } of addedConstraints(ctx)) {
      if (con.contype !== "CONSTR_CHECK") continue;
      const cols = existingColumns(relation, constraintColumns(con, undefined));
      if (cols.length === 0) continue;
      out.push({
        message:
          `adding CHECK ${con.conname ?? ""} over existing ${columnList(target, cols)}; writes from the previous generation that violate it start failing${con.skip_validation ? " (NOT VALID does not exempt new writes)" : ""}`.replace(
            "CHECK  ",
            "CHECK ",
          ),
        span: con.location !== undefined ? ctx.at(con.location) : undefined,
      });
    }
    return out;
  },
};
