import type { Constraint } from "libpg-query";
import { fromRangeVar, nodeOf, strings } from "../ast.js";
import { alterCommands, existingColumn, type Finding, type Rule, tableName } from "./rule.js";

export const foreignKeyOnExistingColumn: Rule = {
  id: "foreign-key-on-existing-column",
  category: "contract",
  defaultSeverity: "error",
  summary: "Adding a FOREIGN KEY over columns the previous generation writes.",
  hint: "NOT VALID only skips checking old rows; old code writing an orphan value (or deleting a referenced row) still fails. Ensure every generation keeps the reference valid first, then add the key with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_AddConstraint"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      if (cmd.subtype !== "AT_AddConstraint") continue;
      const con = nodeOf<Constraint>(cmd.def, "Constraint");
      if (con?.contype !== "CONSTR_FOREIGN") continue;
      const cols = strings(con.fk_attrs).filter((c) => existingColumn(relation, c).existing);
      if (cols.length === 0) continue;
      out.push({
        message: `adding FOREIGN KEY on existing column${cols.length > 1 ? "s" : ""} ${tableName(target)}(${cols.join(", ")}) referencing ${tableName(fromRangeVar(con.pktable))}; writes from the previous generation with unmatched values start failing`,
        span: con.location !== undefined ? ctx.at(con.location) : undefined,
      });
    }
    return out;
  },
};
