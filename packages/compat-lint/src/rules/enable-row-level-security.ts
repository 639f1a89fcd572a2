import type { AlterPolicyStmt, CreatePolicyStmt, DropStmt, Node } from "libpg-query";
import { fromRangeVar, nodeOf, qualified, strings } from "../parse/ast.js";
import { key, type PolicyModel, type RelationModel, type SchemaModel } from "../schema/model.js";
import { alteredPolicy, isNew, newPolicy, openPolicies } from "../schema/queries.js";
import { alterCommands, tableName } from "./helpers.js";
import type { Finding, Rule, RuleContext } from "./rule.js";

/**
 * Withdrawn when, by the end of the file, the table's policies leave every
 * row to everyone (openPolicies), or row-level security is off again.
 */
function opened(schema: string, name: string) {
  return (end: SchemaModel) => {
    const rel = end.relations.get(key(schema, name));
    if (rel === undefined) return false;
    return rel.rowSecurity === undefined || openPolicies(rel.policies.values());
  };
}

const policyHint =
  "Keep a policy that admits every row to everyone (or put one back in the same file) while a running generation needs the old access; drop or narrow it in a change set marked `-- compat: breaking (reason: ...)` once none does.";

const consequence =
  "the previous generation's queries (as any role but the owner) then see only the rows a remaining policy admits, and its writes that none admits fail";

/**
 * A policy statement on a table whose row-level security an earlier file
 * enabled, when the table's policies were open before it and are not after
 * it: DROP POLICY of the open one, an ALTER POLICY that narrows it, or a
 * RESTRICTIVE policy that may filter rows. RLS enabled by this same file is
 * the ENABLE finding's (withdrawn on the same terms).
 */
function policyChange(ctx: RuleContext): Finding[] {
  const policyTarget = (): { rel: RelationModel | undefined; table: string; policy: string } | undefined => {
    const b = ctx.stmt.body;
    switch (ctx.stmt.kind) {
      case "CreatePolicyStmt": {
        const p = b as CreatePolicyStmt;
        const t = fromRangeVar(p.table);
        return {
          rel: ctx.schema.relation(t.schema, t.name),
          table: tableName(t),
          policy: p.policy_name ?? "",
        };
      }
      case "AlterPolicyStmt": {
        const a = b as AlterPolicyStmt;
        const t = fromRangeVar(a.table);
        return {
          rel: ctx.schema.relation(t.schema, t.name),
          table: tableName(t),
          policy: a.policy_name ?? "",
        };
      }
      default:
        return undefined;
    }
  };
  const out: Finding[] = [];
  const judge = (
    rel: RelationModel | undefined,
    after: (before: Map<string, PolicyModel>) => Map<string, PolicyModel>,
    message: (since: string) => string,
    span: RegExp,
  ) => {
    if (!rel || isNew(rel) || rel.rowSecurity === undefined || rel.rowSecurity === ctx.origin) return;
    if (!openPolicies(rel.policies.values()) || openPolicies(after(rel.policies).values())) return;
    out.push({
      message: message(rel.rowSecurity.file),
      hint: policyHint,
      span: ctx.find(span),
      withdrawnIf: opened(rel.schema, rel.name),
    });
  };
  const enabled = (table: string, since: string) =>
    `row-level security is enabled on ${table} (since ${since}), so ${consequence}`;

  if (ctx.stmt.kind === "DropStmt") {
    const d = ctx.stmt.body as DropStmt;
    if (d.removeType !== "OBJECT_POLICY") return [];
    for (const o of d.objects ?? []) {
      // ON t: the object is [schema.]t.policy.
      const parts = strings(nodeOf<{ items?: Node[] }>(o, "List")?.items);
      const t = qualified(parts.slice(0, -1));
      const name = parts[parts.length - 1] ?? "";
      judge(
        ctx.schema.relation(t.schema, t.name),
        (before) => new Map([...before].filter(([n]) => n !== name)),
        (since) =>
          `dropping policy ${name} on ${tableName(t)}, the one that admits every row; ${enabled(tableName(t), since)}`,
        /drop\s+policy/i,
      );
    }
    return out;
  }
  const target = policyTarget();
  if (!target) return [];
  if (ctx.stmt.kind === "CreatePolicyStmt") {
    const p = newPolicy(ctx.stmt.body as CreatePolicyStmt);
    judge(
      target.rel,
      (before) => new Map([...before, [p.name, p]]),
      (since) =>
        `RESTRICTIVE policy ${p.name} on ${target.table}: every row must now pass it as well; ${enabled(target.table, since)}`,
      /create\s+policy/i,
    );
  } else {
    const current = target.rel?.policies.get(target.policy);
    if (!current) return [];
    const p = alteredPolicy(current, ctx.stmt.body as AlterPolicyStmt);
    judge(
      target.rel,
      (before) => new Map([...before, [p.name, p]]),
      (since) =>
        `ALTER POLICY ${p.name} on ${target.table} narrows the policy that admits every row; ${enabled(target.table, since)}`,
      /alter\s+policy/i,
    );
  }
  return out;
}

export const enableRowLevelSecurity: Rule = {
  id: "enable-row-level-security",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "ENABLE (or FORCE) ROW LEVEL SECURITY on a table the previous generation queries, unless the same file adds a policy that admits everything; or dropping / narrowing that policy later.",
  hint: "In the same file, add `CREATE POLICY ... ON t USING (true)` (permissive, FOR ALL, TO PUBLIC) so old code keeps seeing and writing every row; add restrictive policies once no running generation needs the old access, with `-- compat: breaking (reason: ...)`.",
  kinds: [
    "AlterTableStmt.AT_EnableRowSecurity",
    "AlterTableStmt.AT_ForceRowSecurity",
    "CreatePolicyStmt",
    "AlterPolicyStmt",
    "DropStmt",
  ],
  check(ctx) {
    if (ctx.stmt.kind !== "AlterTableStmt") return policyChange(ctx);
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      const force = cmd.subtype === "AT_ForceRowSecurity";
      if ((!force && cmd.subtype !== "AT_EnableRowSecurity") || isNew(relation)) continue;
      // Enabled already by an earlier file: old code lives with it (a policy change is judged on its own).
      if (!force && relation?.rowSecurity !== undefined && relation.rowSecurity !== ctx.origin) continue;
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
