import type { Constraint } from "libpg-query";
import { nodeOf } from "../ast.js";
import { isNew } from "../schema/model.js";
import { alterCommands, type Finding, type Rule, tableName } from "./rule.js";

export const addConstraintBuildsIndex: Rule = {
  id: "add-constraint-builds-index",
  category: "lock",
  defaultSeverity: "warning",
  summary: "ADD UNIQUE / PRIMARY KEY without USING INDEX builds the index under an ACCESS EXCLUSIVE lock.",
  hint: "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX.",
  kinds: ["AlterTableStmt.AT_AddConstraint"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      if (cmd.subtype !== "AT_AddConstraint" || isNew(relation)) continue;
      const con = nodeOf<Constraint>(cmd.def, "Constraint");
      if (con?.contype !== "CONSTR_UNIQUE" && con?.contype !== "CONSTR_PRIMARY") continue;
      if (con.indexname) continue;
      out.push({
        message: `adding ${con.contype === "CONSTR_PRIMARY" ? "PRIMARY KEY" : "UNIQUE"} to existing table ${tableName(target)} builds its index while reads and writes are blocked`,
        span: con.location !== undefined ? ctx.at(con.location) : undefined,
      });
    }
    return out;
  },
};
