import type {
  AlterDomainStmt,
  AlterEnumStmt,
  AlterObjectSchemaStmt,
  AlterPolicyStmt,
  AlterTableStmt,
  CompositeTypeStmt,
  CreateDomainStmt,
  CreateEnumStmt,
  CreateExtensionStmt,
  CreateFunctionStmt,
  CreatePolicyStmt,
  CreateSchemaStmt,
  CreateSeqStmt,
  CreateStmt,
  CreateTableAsStmt,
  DropStmt,
  IndexStmt,
  Node,
  RangeVar,
  RenameStmt,
  VariableSetStmt,
  ViewStmt,
} from "libpg-query";
import { fromRangeVar, nodeOf, qualified, str, strings } from "../parse/ast.js";
import type { Statement } from "../parse/parser.js";
import { key, type Origin, type SchemaModel, type Volatility } from "./model.js";
import { alteredPolicy, newPolicy } from "./queries.js";
import { drop } from "./replay/drop.js";
import { addRelation, setDependsOn } from "./replay/relations.js";
import { moveSchema, rename } from "./replay/rename.js";
import { alterTable, createIndex, createTable } from "./replay/tables.js";
import { addType, alterDomain, alterEnum, createDomain } from "./replay/types.js";
import { setQueryColumns } from "./replay/view-columns.js";

/**
 * Replay: applies one statement to the schema model, dispatching by
 * statement kind to replay/ (one file per kind of object); the small cases
 * (functions, schemas, extensions, policies, triggers, search_path) are here.
 */

/**
 * Replays one statement into the schema model. Replay is best effort by
 * design: a statement the model cannot represent leaves it unchanged, and
 * references to unknown objects create placeholders that count as
 * pre-existing, so the rules err on the side of "old code may use this".
 */
export function replay(
  model: SchemaModel,
  stmt: Statement,
  origin: Origin,
  initialSearchPath: string[],
): void {
  const b = stmt.body;
  switch (stmt.kind) {
    case "CreateStmt":
      createTable(model, b as CreateStmt, origin);
      return;
    case "AlterTableStmt":
      alterTable(model, b as AlterTableStmt, origin);
      return;
    case "RenameStmt":
      rename(model, b as RenameStmt, origin);
      return;
    case "AlterObjectSchemaStmt":
      moveSchema(model, b as AlterObjectSchemaStmt, origin);
      return;
    case "IndexStmt":
      createIndex(model, b as IndexStmt, origin);
      return;
    case "DropStmt":
      drop(model, b as DropStmt, origin);
      return;
    case "CreateEnumStmt":
      addType(
        model,
        qualified(strings((b as CreateEnumStmt).typeName)),
        "enum",
        strings((b as CreateEnumStmt).vals),
        origin,
      );
      return;
    case "CreateDomainStmt":
      createDomain(model, b as CreateDomainStmt, origin);
      return;
    case "AlterDomainStmt":
      alterDomain(model, b as AlterDomainStmt);
      return;
    case "CompositeTypeStmt":
      addType(model, fromRangeVar((b as CompositeTypeStmt).typevar), "composite", [], origin);
      return;
    case "CreateRangeStmt":
      addType(model, qualified(strings((b as { typeName?: Node[] }).typeName)), "range", [], origin);
      return;
    case "AlterEnumStmt":
      alterEnum(model, b as AlterEnumStmt, origin);
      return;
    case "ViewStmt": {
      const v = b as ViewStmt;
      const rel = addRelation(model, fromRangeVar(v.view), "view", origin, v.replace === true);
      setQueryColumns(model, rel, v.query, strings(v.aliases), origin);
      return;
    }
    case "CreateTableAsStmt": {
      const c = b as CreateTableAsStmt;
      const q = fromRangeVar(c.into?.rel);
      if (c.if_not_exists && model.relation(q.schema, q.name)) return;
      const matview = c.objtype === "OBJECT_MATVIEW";
      const rel = addRelation(model, q, matview ? "matview" : "table", origin, false);
      setQueryColumns(model, rel, c.query, strings(c.into?.colNames), origin);
      if (!matview) setDependsOn(rel, []);
      return;
    }
    case "CreateExtensionStmt": {
      const name = (b as CreateExtensionStmt).extname;
      if (name && !model.extensions.has(name)) model.extensions.set(name, origin);
      return;
    }
    case "CreatePolicyStmt":
      createPolicy(model, b as CreatePolicyStmt);
      return;
    case "AlterPolicyStmt":
      alterPolicy(model, b as AlterPolicyStmt);
      return;
    case "CreateSeqStmt":
      addRelation(model, fromRangeVar((b as CreateSeqStmt).sequence), "sequence", origin, false);
      return;
    case "CreateTrigStmt": {
      const t = b as { trigname?: string; relation?: RangeVar; funcname?: Node[]; replace?: boolean };
      const q = fromRangeVar(t.relation);
      const rel = model.relation(q.schema, q.name);
      const f = qualified(strings(t.funcname));
      const fn = model.func(f.schema, f.name);
      if (!t.trigname) return;
      const relKey = rel ? key(rel.schema, rel.name) : key(q.schema ?? model.creationSchema, q.name);
      const func = fn ? key(fn.schema, fn.name) : key(f.schema ?? model.creationSchema, f.name);
      model.triggers.set(`${relKey}\0${t.trigname}`, { name: t.trigname, relation: relKey, func, origin });
      return;
    }
    case "CreateFunctionStmt": {
      const f = b as CreateFunctionStmt;
      const q = qualified(strings(f.funcname));
      const schema = q.schema ?? model.creationSchema;
      const existing = model.functions.get(key(schema, q.name));
      const { volatility, language } = functionOptions(f);
      const returns = strings(f.returnType?.names);
      const trigger =
        ["trigger", "event_trigger"].includes(returns[returns.length - 1] ?? "") && !f.returnType?.setof;
      // CREATE OR REPLACE keeps the original origin: old code may call it already.
      if (existing) Object.assign(existing, { volatility, language, trigger });
      else
        model.functions.set(key(schema, q.name), {
          schema,
          name: q.name,
          volatility,
          language,
          trigger,
          origin,
        });
      return;
    }
    case "CreateSchemaStmt": {
      const name = (b as CreateSchemaStmt).schemaname;
      if (name && !model.schemas.has(name)) model.schemas.set(name, origin);
      return;
    }
    case "SelectStmt": {
      const path = setConfigSearchPath(b);
      if (path !== undefined && path.length > 0) model.searchPath = path;
      return;
    }
    case "VariableSetStmt": {
      const v = b as VariableSetStmt;
      if (v.name?.toLowerCase() !== "search_path") return;
      if (v.kind === "VAR_SET_VALUE") {
        const path = (v.args ?? [])
          .map((a) => nodeOf<{ sval?: { sval?: string } }>(a, "A_Const")?.sval?.sval)
          .filter((s): s is string => s !== undefined && s !== "$user");
        if (path.length > 0) model.searchPath = path;
      } else if (v.kind === "VAR_SET_DEFAULT" || v.kind === "VAR_RESET" || v.kind === "VAR_RESET_ALL") {
        model.searchPath = [...initialSearchPath];
      }
      return;
    }
    default:
      return;
  }
}

/**
 * The search path a `SELECT [pg_catalog.]set_config('search_path', '<path>', <is_local>)` sets
 * (pg_dump starts every dump with one), or undefined for any other SELECT. Like SET search_path
 * it lasts to the end of the file: is_local true lasts to the end of the transaction, which a
 * migration is. The path is parsed as Postgres does: comma-separated, double-quoted names kept as
 * written, others lowercased; $user is left out. An empty path ('', pg_dump's) returns [], and the
 * caller keeps the path it had: with none, Postgres rejects an unqualified CREATE and finds no
 * unqualified table, so only qualified names (all pg_dump writes) reach the model.
 */
function setConfigSearchPath(body: Record<string, unknown>): string[] | undefined {
  const s = body as { targetList?: Node[]; fromClause?: Node[] };
  if (s.fromClause !== undefined || s.targetList?.length !== 1) return undefined;
  const call = nodeOf<{ funcname?: Node[]; args?: Node[] }>(
    nodeOf<{ val?: Node }>(s.targetList[0], "ResTarget")?.val,
    "FuncCall",
  );
  const name = strings(call?.funcname);
  if (name[name.length - 1] !== "set_config" || (name.length === 2 && name[0] !== "pg_catalog"))
    return undefined;
  if (name.length > 2) return undefined;
  const text = (n: Node | undefined) => nodeOf<{ sval?: { sval?: string } }>(n, "A_Const")?.sval?.sval;
  const args = call?.args ?? [];
  if (args.length !== 3 || text(args[0])?.toLowerCase() !== "search_path") return undefined;
  const value = text(args[1]);
  if (value === undefined) return undefined;
  const path: string[] = [];
  for (const m of value.matchAll(/\s*(?:"((?:[^"]|"")*)"|([^,\s]+))\s*(?:,|$)/g)) {
    const name = m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!.toLowerCase();
    if (name !== "" && name !== "$user") path.push(name);
  }
  return path;
}

/** LANGUAGE and IMMUTABLE / STABLE / VOLATILE of a CREATE FUNCTION. */
function functionOptions(f: CreateFunctionStmt): { volatility: Volatility; language: string } {
  let volatility: Volatility = "volatile";
  let language = "sql";
  for (const o of f.options ?? []) {
    const d = nodeOf<{ defname?: string; arg?: Node }>(o, "DefElem");
    const v = str(d?.arg);
    if (d?.defname === "volatility" && (v === "immutable" || v === "stable" || v === "volatile"))
      volatility = v;
    else if (d?.defname === "language" && v !== undefined) language = v.toLowerCase();
  }
  return { volatility, language };
}

function createPolicy(model: SchemaModel, p: CreatePolicyStmt): void {
  const t = fromRangeVar(p.table);
  const rel = model.relation(t.schema, t.name);
  if (!rel || !p.policy_name) return;
  rel.policies.set(p.policy_name, newPolicy(p));
}

function alterPolicy(model: SchemaModel, a: AlterPolicyStmt): void {
  const t = fromRangeVar(a.table);
  const policies = model.relation(t.schema, t.name)?.policies;
  const policy = policies?.get(a.policy_name ?? "");
  if (policies && policy) policies.set(policy.name, alteredPolicy(policy, a));
}
