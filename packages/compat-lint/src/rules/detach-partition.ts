import type { PartitionCmd } from "libpg-query";
import { fromRangeVar, nodeOf } from "../parse/ast.js";
import { isNew } from "../schema/queries.js";
import { alterCommands, tableName } from "./helpers.js";
import type { Finding, Rule } from "./rule.js";

export const detachPartition: Rule = {
  id: "detach-partition",
  category: "contract",
  defaultSeverity: "error",
  summary: "DETACH PARTITION of a partition the previous generation reads or writes through its parent.",
  hint: "Stop reading and writing those rows through the parent in one deploy (or move them first), then detach in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_DetachPartition"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      if (cmd.subtype !== "AT_DetachPartition" || isNew(relation)) continue;
      const part = fromRangeVar(nodeOf<PartitionCmd>(cmd.def, "PartitionCmd")?.name);
      if (isNew(ctx.schema.relation(part.schema, part.name))) continue;
      out.push({
        message: `detaching partition ${tableName(part)} from ${tableName(target)}; the previous generation's queries through ${tableName(target)} stop seeing its rows, and its inserts of rows that belong there fail (no partition found for row) unless a default partition takes them`,
        span: ctx.find(/detach\s+partition/i),
      });
    }
    return out;
  },
};
