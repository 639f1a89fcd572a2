import type { GrantRoleStmt, GrantStmt, Node, RangeVar } from "libpg-query";
import { display, fromRangeVar, nodeOf, objectName, str } from "../parse/ast.js";
import type { SchemaModel } from "../schema/model.js";
import { isNew } from "../schema/queries.js";
import type { Rule } from "./rule.js";

const objectLabels: Record<string, string> = {
  OBJECT_TABLE: "table",
  OBJECT_SEQUENCE: "sequence",
  OBJECT_FUNCTION: "function",
  OBJECT_PROCEDURE: "procedure",
  OBJECT_ROUTINE: "routine",
  OBJECT_SCHEMA: "schema",
  OBJECT_TYPE: "type",
  OBJECT_DOMAIN: "domain",
  OBJECT_DATABASE: "database",
  OBJECT_LARGEOBJECT: "large object",
  OBJECT_LANGUAGE: "language",
  OBJECT_FDW: "foreign data wrapper",
  OBJECT_FOREIGN_SERVER: "foreign server",
  OBJECT_TABLESPACE: "tablespace",
  OBJECT_PARAMETER_ACL: "parameter",
};

/** Whether the change set created the object a REVOKE names (then no old code was granted anything on it). */
function created(schema: SchemaModel, objtype: string, o: Node): boolean {
  const rv = nodeOf<RangeVar>(o, "RangeVar");
  if (rv) {
    const q = fromRangeVar(rv);
    return isNew(schema.relation(q.schema, q.name));
  }
  const q = objectName(o);
  switch (objtype) {
    case "OBJECT_FUNCTION":
    case "OBJECT_PROCEDURE":
    case "OBJECT_ROUTINE":
      return isNew(schema.func(q.schema, q.name));
    case "OBJECT_TYPE":
    case "OBJECT_DOMAIN":
      return isNew(schema.type(q.schema, q.name));
    case "OBJECT_SCHEMA":
      return schema.schemas.get(str(o) ?? q.name)?.inChangeSet === true;
    default:
      return false;
  }
}

function objectText(o: Node): string {
  const rv = nodeOf<RangeVar>(o, "RangeVar");
  if (rv) return display(fromRangeVar(rv));
  // A large object is named by its OID: an Integer, or a Float past 2^31.
  const int = nodeOf<{ ival?: number }>(o, "Integer");
  if (int) return String(int.ival ?? 0); // the AST leaves out a zero
  const float = nodeOf<{ fval?: string }>(o, "Float");
  if (float) return float.fval ?? "?";
  return display(objectName(o));
}

export const revokePrivilege: Rule = {
  id: "revoke-privilege",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "REVOKE of privileges on objects (or of role memberships) the previous generation's role may rely on.",
  hint: "Revoke once no running generation needs the privilege, in a change set marked `-- compat: breaking (reason: ...)`.",
  kinds: ["GrantStmt", "GrantRoleStmt"],
  check(ctx) {
    if (ctx.stmt.kind === "GrantRoleStmt") {
      const g = ctx.stmt.body as GrantRoleStmt;
      // REVOKE ADMIN OPTION FOR only takes away the right to grant the role on.
      if (g.is_grant || ((g.opt ?? []).length > 0 && g.behavior !== "DROP_CASCADE")) return [];
      const roles = (g.granted_roles ?? []).map(
        (r) => nodeOf<{ priv_name?: string }>(r, "AccessPriv")?.priv_name ?? "?",
      );
      return [
        {
          message: `revoking membership in ${roles.join(", ")}; a previous-generation role that gets its privileges through it starts failing with permission denied`,
          span: ctx.find(/\brevoke\b/i),
        },
      ];
    }
    if (ctx.stmt.kind !== "GrantStmt") return [];
    const g = ctx.stmt.body as GrantStmt;
    // REVOKE GRANT OPTION FOR keeps the privilege itself (unless CASCADE takes it from those granted through it).
    if (g.is_grant || (g.grant_option && g.behavior !== "DROP_CASCADE")) return [];
    const objtype = g.objtype ?? "";
    const label = objectLabels[objtype] ?? "object";
    const privs =
      (g.privileges ?? [])
        .map((p) => nodeOf<{ priv_name?: string }>(p, "AccessPriv")?.priv_name ?? "?")
        .join(", ") || "all privileges";
    let what: string;
    if (g.targtype === "ACL_TARGET_ALL_IN_SCHEMA") {
      const schemas = (g.objects ?? []).map((o) => str(o) ?? "?");
      if (schemas.every((s) => ctx.schema.schemas.get(s)?.inChangeSet)) return [];
      what = `every ${label} in schema ${schemas.join(", ")}`;
    } else if (g.targtype === "ACL_TARGET_OBJECT") {
      const old = (g.objects ?? []).filter((o) => !created(ctx.schema, objtype, o));
      if (old.length === 0) return [];
      what = `${label} ${old.map(objectText).join(", ")}`;
    } else return [];
    return [
      {
        message: `revoking ${privs} on ${what}; the previous generation's queries that need ${privs === "all privileges" ? "them" : "it"} fail with permission denied if its role relied on this grant`,
        span: ctx.find(/\brevoke\b/i),
      },
    ];
  },
};
