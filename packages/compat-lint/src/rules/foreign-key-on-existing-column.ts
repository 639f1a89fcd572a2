import { fromRangeVar, strings } from "../ast.js";
import { addedConstraints, columnList, existingColumns, type Finding, type Rule, tableName } from "./rule.js";

export const foreignKeyOnExistingColumn: Rule = {
  id: "foreign-key-on-existing-column",
  category: "contract",
  defaultSeverity: "error",
  summary: "Adding a FOREIGN KEY over columns the previous generation writes.",
  hint: "NOT VALID only skips checking old rows; old code writing an orphan value (or deleting a referenced row) still fails. Ensure every generation keeps the reference valid first, then add the key with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_AddConstraint"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { con, target, relation } of addedConstraints(ctx)) {
      if (con.contype !== "CONSTR_FOREIGN") continue;
      const cols = existingColumns(relation, strings(con.fk_attrs));
      if (cols.length === 0) continue;
      out.push({
        message: `adding FOREIGN KEY on existing ${columnList(target, cols)} referencing ${tableName(fromRangeVar(con.pktable))}; writes from the previous generation with unmatched values start failing`,
        span: con.location !== undefined ? ctx.at(con.location) : undefined,
      });
    }
    return out;
  },
};
