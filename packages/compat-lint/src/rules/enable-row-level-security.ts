import { admitsEverything, isNew, key, mayRestrict, type SchemaModel } from "../schema/model.js";
import { alterCommands, type Finding, type Rule, tableName } from "./rule.js";

/**
 * Withdrawn when, by the end of the file, the table has a policy that admits
 * every row to everyone and no RESTRICTIVE policy that may filter rows (a
 * row must pass every restrictive policy, whatever the permissive ones admit).
 */
function opened(schema: string, name: string) {
  return (end: SchemaModel) => {
    const rel = end.relations.get(key(schema, name));
    if (rel === undefined) return false;
    const policies = [...rel.policies.values()];
    return policies.some(admitsEverything) && !policies.some(mayRestrict);
  };
}

export const enableRowLevelSecurity: Rule = {
  id: "enable-row-level-security",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "ENABLE (or FORCE) ROW LEVEL SECURITY on a table the previous generation queries, unless the same file adds a policy that admits everything.",
  hint: "In the same file, add `CREATE POLICY ... ON t USING (true)` (permissive, FOR ALL, TO PUBLIC) so old code keeps seeing and writing every row; add restrictive policies once no running generation needs the old access, with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_EnableRowSecurity", "AlterTableStmt.AT_ForceRowSecurity"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      const force = cmd.subtype === "AT_ForceRowSecurity";
      if ((!force && cmd.subtype !== "AT_EnableRowSecurity") || isNew(relation)) continue;
      const schema = relation?.schema ?? ctx.schema.resolveSchema("relations", target.schema, target.name);
      out.push({
        message: force
          ? `FORCE ROW LEVEL SECURITY on ${tableName(target)} subjects the table's owner to its policies; if the previous generation connects as the owner, its queries see only the rows a policy admits and its writes that no policy admits fail`
          : `ENABLE ROW LEVEL SECURITY on ${tableName(target)}; queries from the previous generation (as any role but the owner) see only the rows a policy admits, and its writes that no policy admits fail`,
        span: ctx.find(force ? /force\s+row\s+level\s+security/i : /enable\s+row\s+level\s+security/i),
        withdrawnIf: opened(schema, relation?.name ?? target.name),
      });
    }
    return out;
  },
};
