import type {
  AlterDomainStmt,
  AlterEnumStmt,
  AlterObjectSchemaStmt,
  AlterPolicyStmt,
  AlterTableCmd,
  AlterTableStmt,
  ColumnDef,
  CompositeTypeStmt,
  Constraint,
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
  IndexElem,
  IndexStmt,
  Node,
  RangeVar,
  RenameStmt,
  ResTarget,
  SelectStmt,
  TableLikeClause,
  TypeName,
  VariableSetStmt,
  ViewStmt,
} from "libpg-query";
import {
  columnRefs,
  exprKey,
  fromRangeVar,
  nodeOf,
  objectName,
  qualified,
  str,
  strings,
} from "../parse/ast.js";
import type { Statement } from "../parse/parser.js";
import {
  type ColumnModel,
  type ConstraintKind,
  type ConstraintModel,
  type ForeignKeyModel,
  type IndexModel,
  inModel,
  key,
  noteDroppedColumn,
  type Origin,
  type PolicyClause,
  type PolicyModel,
  type RelationKind,
  type RelationModel,
  type SchemaModel,
  type TypeKind,
  type TypeModel,
  typeOf,
  UNKNOWN_TYPE,
  type Volatility,
} from "./model.js";
import { isSerial, type SqlType, sameType, sqlType } from "./sql-type.js";

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

/**
 * The model's fingerprint of a DEFAULT expression. `DEFAULT NULL` (cast or
 * not) is no default at all: an INSERT that omits the column stores NULL.
 */
export function defaultKey(node: Node | undefined, columnType?: SqlType): string | undefined {
  let n = node;
  for (let c = nodeOf<{ arg?: Node }>(n, "TypeCast"); c; c = nodeOf<{ arg?: Node }>(n, "TypeCast")) n = c.arg;
  if (nodeOf<{ isnull?: boolean }>(n, "A_Const")?.isnull) return undefined;
  // Postgres coerces a default to its column's type when it stores it, so a cast to that very
  // type changes nothing: `SET DEFAULT 'UNKNOWN'::"Severity"` on a "Severity" column restores
  // `DEFAULT 'UNKNOWN'` (Prisma writes the one, enum rebuilds the other).
  let e = node;
  for (
    let c = nodeOf<{ arg?: Node; typeName?: TypeName }>(e, "TypeCast");
    c && columnType;
    c = nodeOf<{ arg?: Node; typeName?: TypeName }>(e, "TypeCast")
  ) {
    if (!sameType(sqlType(c.typeName), columnType)) break;
    e = c.arg;
  }
  return exprKey(e);
}

/** Where an object the model never saw is taken to come from: before the change set. */
function outside(): Origin {
  return { file: "(outside the linted files)", inChangeSet: false };
}

function addType(
  model: SchemaModel,
  q: { schema: string | undefined; name: string },
  kind: TypeKind,
  values: string[],
  origin: Origin,
): TypeModel {
  const schema = q.schema ?? model.creationSchema;
  const t: TypeModel = {
    schema,
    name: q.name,
    kind,
    values,
    newValues: new Map(),
    notNull: false,
    hasDefault: false,
    origin,
  };
  model.types.set(key(schema, q.name), t);
  return t;
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

/** The USING / WITH CHECK of a policy statement, as far as the model cares. */
function policyClause(n: Node | undefined): PolicyClause {
  if (n === undefined) return "none";
  return nodeOf<{ boolval?: { boolval?: boolean } }>(n, "A_Const")?.boolval?.boolval === true
    ? "true"
    : "other";
}

/** Whether a policy's role list is PUBLIC only (no list: PUBLIC). */
function toPublic(roles: Node[] | undefined): boolean {
  return (roles ?? []).every(
    (r) => nodeOf<{ roletype?: string }>(r, "RoleSpec")?.roletype === "ROLESPEC_PUBLIC",
  );
}

/** The policy a CREATE POLICY makes. */
export function newPolicy(p: CreatePolicyStmt): PolicyModel {
  return {
    name: p.policy_name ?? "",
    permissive: p.permissive === true,
    allCommands: (p.cmd_name ?? "all") === "all",
    toPublic: toPublic(p.roles),
    using: policyClause(p.qual),
    check: policyClause(p.with_check),
  };
}

/** A policy after ALTER POLICY: TO, USING and WITH CHECK replace what was there; what it does not name stays. */
export function alteredPolicy(policy: PolicyModel, a: AlterPolicyStmt): PolicyModel {
  return {
    ...policy,
    toPublic: a.roles !== undefined ? toPublic(a.roles) : policy.toPublic,
    using: a.qual !== undefined ? policyClause(a.qual) : policy.using,
    check: a.with_check !== undefined ? policyClause(a.with_check) : policy.check,
  };
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

function addRelation(
  model: SchemaModel,
  q: { schema: string | undefined; name: string },
  kind: RelationKind,
  origin: Origin,
  replace: boolean,
): RelationModel {
  const schema = q.schema ?? model.creationSchema;
  const k = key(schema, q.name);
  const existing = model.relations.get(k);
  if (existing && (replace || kind === existing.kind)) return existing;
  const rel: RelationModel = {
    schema,
    name: q.name,
    kind,
    columns: new Map(),
    constraints: new Map(),
    columnsKnown: false,
    dependsOn: [],
    dependents: new Set(),
    indexes: new Set(),
    seq: 0,
    policies: new Map(),
    rowSecurity: undefined,
    origin,
  };
  model.relations.set(k, rel);
  return rel;
}

/** The relation an ALTER refers to, or a pre-existing placeholder for one the model never saw. */
export function relationFor(
  model: SchemaModel,
  q: { schema: string | undefined; name: string },
): RelationModel {
  const found = model.relation(q.schema, q.name);
  if (found) return found;
  return addRelation(model, q, "table", outside(), false);
}

function createTable(model: SchemaModel, c: CreateStmt, origin: Origin): void {
  const q = fromRangeVar(c.relation);
  if (c.if_not_exists && model.relation(q.schema, q.name)) return;
  const rel = addRelation(model, q, "table", origin, false);
  rel.origin = origin;
  rel.columns.clear();
  rel.constraints.clear();
  rel.droppedConstraints = undefined;
  rel.droppedColumns = undefined;
  rel.droppedIndexes = undefined;
  rel.policies.clear();
  rel.rowSecurity = undefined;
  setDependsOn(rel, []);
  // INHERITS and PARTITION OF take the parent's columns, which are not copied.
  rel.columnsKnown = (c.inhRelations ?? []).length === 0 && c.partbound === undefined;
  for (const elt of c.tableElts ?? []) {
    const col = nodeOf<ColumnDef>(elt, "ColumnDef");
    if (col) addColumn(model, rel, col, origin);
    const con = nodeOf<Constraint>(elt, "Constraint");
    if (con) addConstraint(model, rel, con, undefined, origin);
    const like = nodeOf<TableLikeClause>(elt, "TableLikeClause");
    if (like && !copyLike(model, rel, like, origin)) rel.columnsKnown = false;
  }
  noteConstraints(model, rel);
}

/** Sets what a view reads, keeping the reverse (RelationModel.dependents) in step. */
function setDependsOn(rel: RelationModel, deps: RelationModel[]): void {
  for (const d of rel.dependsOn) d.dependents.delete(rel);
  rel.dependsOn = deps;
  for (const d of deps) d.dependents.add(rel);
}

/** Records the relation as owner of its PRIMARY KEY / UNIQUE / EXCLUDE constraints' names (SchemaModel.constraintOwners). */
function noteConstraints(model: SchemaModel, rel: RelationModel): void {
  for (const c of rel.constraints.values()) if (indexKinds.has(c.kind)) noteConstraint(model, rel, c.name);
}

function noteConstraint(model: SchemaModel, rel: RelationModel, name: string): void {
  const k = key(rel.schema, name);
  const owners = model.constraintOwners.get(k);
  if (owners === undefined) model.constraintOwners.set(k, new Set([rel]));
  else owners.add(rel);
}

/** Files a new index in the model and under its relation. */
function addIndex(model: SchemaModel, rel: RelationModel, idx: IndexModel): void {
  model.indexes.set(key(idx.schema, idx.name), idx);
  rel.indexes.add(idx);
}

/** CREATE TABLE (LIKE ...) option bits (CREATE_TABLE_LIKE_* in parsenodes.h). */
const LIKE_CONSTRAINTS = 1 << 2;
const LIKE_DEFAULTS = 1 << 3;
const LIKE_GENERATED = 1 << 4;
const LIKE_IDENTITY = 1 << 5;
const LIKE_INDEXES = 1 << 6;

/**
 * CREATE TABLE t (LIKE src ...): src's columns with their types and NOT NULL
 * (always copied); defaults, generation expressions and identity only when
 * included; CHECK constraints (same names) with INCLUDING CONSTRAINTS; keys,
 * exclusion constraints and indexes (names chosen for t) with INCLUDING
 * INDEXES. Foreign keys are never copied. false: src is unknown.
 */
function copyLike(model: SchemaModel, rel: RelationModel, like: TableLikeClause, origin: Origin): boolean {
  const q = fromRangeVar(like.relation);
  const src = model.relation(q.schema, q.name);
  if (!src?.columnsKnown) return false;
  const opts = like.options ?? 0;
  for (const c of src.columns.values()) {
    const identity = c.identity && (opts & LIKE_IDENTITY) !== 0;
    const generated = identity || (c.generated && !c.identity && (opts & LIKE_GENERATED) !== 0);
    const copy: ColumnModel = {
      name: c.name,
      type: { ...c.type, mods: [...c.type.mods] },
      notNull: c.notNull,
      defaultKey: !c.generated && opts & LIKE_DEFAULTS ? c.defaultKey : undefined,
      nullDefault: !c.generated && (opts & LIKE_DEFAULTS) !== 0 && c.nullDefault,
      generated,
      identity,
      identityAlways: identity && c.identityAlways,
      origin,
    };
    rel.columns.set(c.name, copy);
    // A copied identity column gets a sequence of its own (<new table>_<column>_seq).
    if (identity) addOwnedSequence(model, rel, copy, undefined, origin);
  }
  for (const con of src.constraints.values()) {
    const copy =
      con.kind === "check"
        ? (opts & LIKE_CONSTRAINTS) !== 0
        : indexKinds.has(con.kind) && (opts & LIKE_INDEXES) !== 0;
    if (!copy) continue;
    const name = con.kind === "check" ? con.name : defaultConstraintName(rel.name, con.kind, con.columns);
    rel.constraints.set(name, { name, kind: con.kind, columns: [...con.columns], origin });
    if (con.kind !== "check")
      addIndex(model, rel, {
        schema: rel.schema,
        name,
        relation: key(rel.schema, rel.name),
        unique: con.kind !== "exclusion",
        columns: [...con.columns],
        shape: con.kind === "exclusion" ? `exclusion:${con.name}` : columnsShape(con.columns),
        origin,
      });
  }
  if (opts & LIKE_INDEXES) {
    const from = key(src.schema, src.name);
    for (const idx of liveIndexes(model, src)) {
      // A constraint's index was copied with its constraint above.
      if (idx.relation !== from || src.constraints.has(idx.name)) continue;
      const name = `${rel.name}_${idx.columns.join("_")}_idx`;
      addIndex(model, rel, {
        schema: rel.schema,
        name,
        relation: key(rel.schema, rel.name),
        unique: idx.unique,
        columns: [...idx.columns],
        shape: idx.shape,
        origin,
      });
    }
  }
  return true;
}

/**
 * A view's (or CREATE TABLE AS's) columns from its query: names from the
 * column list, the select list's aliases, column references and function
 * names; types where a column reference resolves to one relation's column or
 * a cast says so (otherwise UNKNOWN_TYPE). columnsKnown stays false when a
 * name cannot be derived (an unnamed expression, `*` over something unknown).
 */
function setQueryColumns(
  model: SchemaModel,
  rel: RelationModel,
  query: Node | undefined,
  aliases: string[],
  origin: Origin,
): void {
  // CREATE OR REPLACE VIEW: a column it had keeps its origin (old code may select it).
  const before = new Map(rel.columns);
  rel.columns.clear();
  const ctes = cteNames(query);
  setDependsOn(rel, queryRelations(model, query, ctes));
  const derived = selectColumns(model, nodeOf<SelectStmt>(query, "SelectStmt"), ctes);
  rel.columnsKnown = derived !== undefined;
  if (!derived) return;
  derived.forEach((c, i) => {
    const name = aliases[i] ?? c.name;
    rel.columns.set(name, {
      name,
      type: c.type,
      notNull: false,
      defaultKey: undefined,
      nullDefault: false,
      generated: false,
      identity: false,
      identityAlways: false,
      origin: before.get(name)?.origin ?? origin,
    });
  });
}

/** The names a query's WITH clauses (at any depth) give their CTEs. */
function cteNames(query: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(query)) {
    for (const n of query) cteNames(n, out);
  } else if (query && typeof query === "object") {
    const name = (query as { CommonTableExpr?: { ctename?: string } }).CommonTableExpr?.ctename;
    if (name !== undefined) out.add(name);
    for (const v of Object.values(query)) cteNames(v, out);
  }
  return out;
}

/**
 * The relation a FROM item names, unless it is an unqualified name a CTE of
 * the query takes (WITH c AS (...) SELECT * FROM c reads the CTE, not a table c).
 */
function fromRelation(
  model: SchemaModel,
  rv: RangeVar,
  ctes: ReadonlySet<string>,
): RelationModel | undefined {
  const q = fromRangeVar(rv);
  if (q.schema === undefined && ctes.has(q.name)) return undefined;
  return model.relation(q.schema, q.name);
}

/** Every relation the model knows that a query names (in FROM, joins, subqueries). */
function queryRelations(
  model: SchemaModel,
  query: unknown,
  ctes: ReadonlySet<string>,
  out: RelationModel[] = [],
): RelationModel[] {
  if (Array.isArray(query)) {
    for (const n of query) queryRelations(model, n, ctes, out);
  } else if (query && typeof query === "object") {
    const rv = (query as { RangeVar?: RangeVar }).RangeVar;
    if (rv) {
      const rel = fromRelation(model, rv, ctes);
      if (rel && !out.includes(rel)) out.push(rel);
    } else for (const v of Object.values(query)) queryRelations(model, v, ctes, out);
  }
  return out;
}

/** What a select list can read from a FROM item: a relation, or a CTE's or subquery's derived columns. */
interface SourceRel {
  columns: Map<string, { name: string; type: SqlType }>;
  columnsKnown: boolean;
}

interface Source {
  alias: string;
  rel: SourceRel | undefined;
}

/** A CTE's or subquery's columns as a source (unknown columns: not columnsKnown). */
function derivedSource(cols: { name: string; type: SqlType }[] | undefined, aliases: string[]): SourceRel {
  const columns = new Map<string, { name: string; type: SqlType }>();
  (cols ?? []).forEach((c, i) => {
    const name = aliases[i] ?? c.name;
    columns.set(name, { name, type: c.type });
  });
  return { columns, columnsKnown: cols !== undefined };
}

/** The FROM items a select list resolves against; undefined when a join merges columns (USING, NATURAL). */
function fromSources(
  model: SchemaModel,
  from: Node[] | undefined,
  ctes: ReadonlySet<string>,
  cteRels: ReadonlyMap<string, SourceRel> = new Map(),
): Source[] | undefined {
  const out: Source[] = [];
  const add = (n: Node | undefined): boolean => {
    const rv = nodeOf<RangeVar>(n, "RangeVar");
    if (rv) {
      const q = fromRangeVar(rv);
      const cte = q.schema === undefined ? cteRels.get(q.name) : undefined;
      out.push({ alias: rv.alias?.aliasname ?? q.name, rel: cte ?? fromRelation(model, rv, ctes) });
      return true;
    }
    const j = nodeOf<{ larg?: Node; rarg?: Node; usingClause?: Node[]; isNatural?: boolean }>(n, "JoinExpr");
    if (j) return !j.isNatural && (j.usingClause ?? []).length === 0 && add(j.larg) && add(j.rarg);
    const sub = nodeOf<{ subquery?: Node; alias?: { aliasname?: string; colnames?: Node[] } }>(
      n,
      "RangeSubselect",
    );
    const cols = sub
      ? selectColumns(model, nodeOf<SelectStmt>(sub.subquery, "SelectStmt"), ctes, cteRels)
      : undefined;
    out.push({
      alias: sub?.alias?.aliasname ?? "",
      rel: sub ? derivedSource(cols, strings(sub.alias?.colnames)) : undefined,
    });
    return true;
  };
  for (const n of from ?? []) if (!add(n)) return undefined;
  return out;
}

function selectColumns(
  model: SchemaModel,
  sel: SelectStmt | undefined,
  ctes: ReadonlySet<string>,
  outer: ReadonlyMap<string, SourceRel> = new Map(),
): { name: string; type: SqlType }[] | undefined {
  if (!sel) return undefined;
  // WITH: each CTE's columns (from its own query, or its column list), visible to the later ones
  // and to the body, so `WITH x AS (SELECT t.* FROM t) SELECT x.* FROM x` expands.
  let cteRels = outer;
  const w = sel.withClause as { ctes?: Node[]; recursive?: boolean } | undefined;
  if (w?.ctes?.length && !w.recursive) {
    const m = new Map(outer);
    for (const c of w.ctes) {
      const cte = nodeOf<{ ctename?: string; ctequery?: Node; aliascolnames?: Node[] }>(c, "CommonTableExpr");
      if (!cte?.ctename) continue;
      const cols = selectColumns(model, nodeOf<SelectStmt>(cte.ctequery, "SelectStmt"), ctes, m);
      m.set(cte.ctename, derivedSource(cols, strings(cte.aliascolnames)));
    }
    cteRels = m;
  }
  if (sel.op !== undefined && sel.op !== "SETOP_NONE") {
    // UNION / INTERSECT / EXCEPT: the left arm's names; the types are resolved across arms.
    const left = selectColumns(model, sel.larg, ctes, cteRels);
    return left?.map((c) => ({ name: c.name, type: UNKNOWN_TYPE }));
  }
  if (sel.targetList === undefined) return undefined;
  const sources = fromSources(model, sel.fromClause, ctes, cteRels);
  if (!sources) return undefined;
  const known = (s: Source) => s.rel?.columnsKnown === true;
  const lookup = (qualifier: string | undefined, col: string): SqlType => {
    const cands = sources.filter((s) => qualifier === undefined || s.alias === qualifier);
    if (cands.some((s) => !known(s))) return UNKNOWN_TYPE;
    const hits = cands.flatMap((s) => s.rel?.columns.get(col) ?? []);
    return hits.length === 1 ? hits[0]!.type : UNKNOWN_TYPE;
  };
  const out: { name: string; type: SqlType }[] = [];
  for (const t of sel.targetList) {
    const rt = nodeOf<ResTarget>(t, "ResTarget");
    if (!rt) return undefined;
    const ref = nodeOf<{ fields?: Node[] }>(rt.val, "ColumnRef");
    const fields = ref?.fields ?? [];
    if (ref && nodeOf(fields[fields.length - 1], "A_Star")) {
      const qual = strings(fields.slice(0, -1));
      const expand = sources.filter((s) => qual.length === 0 || s.alias === qual[qual.length - 1]);
      if (expand.length === 0 || !expand.every(known)) return undefined;
      for (const s of expand)
        for (const c of s.rel!.columns.values()) out.push({ name: c.name, type: c.type });
      continue;
    }
    const cast = nodeOf<{ arg?: Node; typeName?: TypeName }>(rt.val, "TypeCast");
    const name = rt.name ?? figureColname(rt.val);
    let type = UNKNOWN_TYPE;
    if (cast) type = sqlType(cast.typeName);
    else if (ref) {
      const parts = strings(fields);
      type = lookup(parts.length > 1 ? parts[parts.length - 2] : undefined, parts[parts.length - 1] ?? "");
    }
    out.push({ name, type });
  }
  return out;
}

/**
 * The name Postgres gives an unaliased select-list entry (FigureColname in parse_target.c): a
 * column reference's last field, a function's name, a cast's inner name or else its type's, the
 * keyword of CASE / ARRAY / ROW / COALESCE / GREATEST / LEAST / NULLIF / EXISTS, a scalar
 * subquery's own column name, and "?column?" for anything else (a constant, an operator).
 */
function figureColname(n: Node | undefined): string {
  return figure(n)?.name ?? "?column?";
}

/** FigureColnameInternal: a name and its strength (2: a real name, 1: a type or keyword), or undefined. */
function figure(n: Node | undefined): { name: string; strength: 1 | 2 } | undefined {
  if (!n || typeof n !== "object") return undefined;
  const [kind, body] = Object.entries(n)[0] ?? [];
  const b = body as Record<string, unknown> | undefined;
  switch (kind) {
    case "ColumnRef": {
      const f = strings(b?.fields as Node[] | undefined);
      const last = (b?.fields as Node[] | undefined)?.at(-1);
      return last && nodeOf(last, "A_Star")
        ? undefined
        : f.length
          ? { name: f[f.length - 1]!, strength: 2 }
          : undefined;
    }
    case "A_Indirection": {
      const ind = (b?.indirection as Node[] | undefined) ?? [];
      for (let i = ind.length - 1; i >= 0; i--) {
        const s = strings([ind[i]!]);
        if (s.length) return { name: s[0]!, strength: 2 };
        if (nodeOf(ind[i], "A_Star")) return undefined;
      }
      return figure(b?.arg as Node | undefined);
    }
    case "FuncCall": {
      const f = strings(b?.funcname as Node[] | undefined);
      return f.length ? { name: f[f.length - 1]!, strength: 2 } : undefined;
    }
    case "A_Expr":
      return b?.kind === "AEXPR_NULLIF" ? { name: "nullif", strength: 2 } : undefined;
    case "TypeCast": {
      const inner = figure(b?.arg as Node | undefined);
      if (inner && inner.strength > 1) return inner;
      const tn = strings((b?.typeName as TypeName | undefined)?.names);
      return tn.length ? { name: tn[tn.length - 1]!, strength: 1 } : inner;
    }
    case "CollateClause":
      return figure(b?.arg as Node | undefined);
    case "GroupingFunc":
      return { name: "grouping", strength: 2 };
    case "MergeSupportFunc":
      return { name: "merge_action", strength: 2 };
    case "SubLink": {
      const t = b?.subLinkType;
      if (t === "EXISTS_SUBLINK") return { name: "exists", strength: 2 };
      if (t === "ARRAY_SUBLINK") return { name: "array", strength: 2 };
      if (t === "EXPR_SUBLINK") {
        const sub = nodeOf<SelectStmt>(b?.subselect as Node | undefined, "SelectStmt");
        const rt = nodeOf<ResTarget>(sub?.targetList?.[0], "ResTarget");
        if (rt?.name) return { name: rt.name, strength: 2 };
        const inner = figure(rt?.val);
        return inner ?? undefined;
      }
      return undefined;
    }
    case "CaseExpr": {
      // The ELSE result's name when it has a real one (CASE ... ELSE a END is named a).
      const d = figure(b?.defresult as Node | undefined);
      return d && d.strength > 1 ? d : { name: "case", strength: 1 };
    }
    case "A_ArrayExpr":
      return { name: "array", strength: 2 };
    case "RowExpr":
      return { name: "row", strength: 2 };
    case "CoalesceExpr":
      return { name: "coalesce", strength: 2 };
    case "MinMaxExpr":
      return { name: b?.op === "IS_LEAST" ? "least" : "greatest", strength: 2 };
    case "SQLValueFunction": {
      const op = String(b?.op ?? "");
      const names: Record<string, string> = {
        SVFOP_CURRENT_DATE: "current_date",
        SVFOP_CURRENT_TIME: "current_time",
        SVFOP_CURRENT_TIME_N: "current_time",
        SVFOP_CURRENT_TIMESTAMP: "current_timestamp",
        SVFOP_CURRENT_TIMESTAMP_N: "current_timestamp",
        SVFOP_LOCALTIME: "localtime",
        SVFOP_LOCALTIME_N: "localtime",
        SVFOP_LOCALTIMESTAMP: "localtimestamp",
        SVFOP_LOCALTIMESTAMP_N: "localtimestamp",
        SVFOP_CURRENT_ROLE: "current_role",
        SVFOP_CURRENT_USER: "current_user",
        SVFOP_USER: "user",
        SVFOP_SESSION_USER: "session_user",
        SVFOP_CURRENT_CATALOG: "current_catalog",
        SVFOP_CURRENT_SCHEMA: "current_schema",
      };
      return names[op] ? { name: names[op]!, strength: 2 } : undefined;
    }
    default:
      return undefined;
  }
}

function addColumn(
  model: SchemaModel,
  rel: RelationModel,
  def: ColumnDef,
  origin: Origin,
): ColumnModel | undefined {
  if (!def.colname) return undefined;
  const serial = isSerial(def.typeName);
  const col: ColumnModel = {
    name: def.colname,
    type: sqlType(def.typeName),
    // serial implies NOT NULL.
    notNull: def.is_not_null === true || serial,
    defaultKey: serial ? "nextval" : defaultKey(def.raw_default, sqlType(def.typeName)),
    nullDefault: def.raw_default !== undefined && defaultKey(def.raw_default) === undefined,
    generated: def.generated !== undefined && def.generated !== "",
    identityAlways: false,
    identity: false,
    origin,
  };
  rel.columns.set(col.name, col);
  if (serial) addOwnedSequence(model, rel, col, undefined, origin);
  for (const n of def.constraints ?? []) {
    const con = nodeOf<Constraint>(n, "Constraint");
    if (!con) continue;
    addConstraint(model, rel, con, col, origin);
    if (con.contype === "CONSTR_IDENTITY") addOwnedSequence(model, rel, col, con.options, origin);
  }
  return col;
}

/**
 * The name PG gives an object it names after a table and column
 * (ChooseRelationName / makeObjectName): `<name1>_<name2>_<label>`, the longer
 * of the two names cut a byte at a time until the whole fits in 63 bytes, each
 * cut back to a whole UTF-8 character. PG appends a number on a collision; the
 * caller checks for one.
 */
export function chooseRelationName(name1: string, name2: string, label: string): string {
  const b1 = Buffer.from(name1);
  const b2 = Buffer.from(name2);
  let n1 = b1.length;
  let n2 = b2.length;
  const avail = 63 - (Buffer.byteLength(label) + 2);
  while (n1 + n2 > avail) {
    if (n1 > n2) n1--;
    else n2--;
  }
  const clip = (b: Buffer, n: number) => {
    let end = n;
    // Back off a cut inside a character (a UTF-8 continuation byte at the cut).
    while (end > 0 && end < b.length && (b[end]! & 0xc0) === 0x80) end--;
    return b.subarray(0, end).toString("utf8");
  };
  return `${clip(b1, n1)}_${clip(b2, n2)}_${label}`;
}

/**
 * The sequence a serial or identity column gets: SEQUENCE NAME if the
 * identity options give one, else <table>_<column>_seq in the table's schema.
 * Recorded as created with the column, so the same file may GRANT/REVOKE on
 * it; not when a relation of that name exists (PG then picks another name).
 */
function addOwnedSequence(
  model: SchemaModel,
  rel: RelationModel,
  col: ColumnModel,
  options: Node[] | undefined,
  origin: Origin,
): void {
  let schema = rel.schema;
  let name = chooseRelationName(rel.name, col.name, "seq");
  for (const o of options ?? []) {
    const d = nodeOf<{ defname?: string; arg?: Node }>(o, "DefElem");
    if (d?.defname !== "sequence_name") continue;
    // A SEQUENCE NAME is created like any unqualified name: in the first schema of the search path.
    const q = qualified(strings(nodeOf<{ items?: Node[] }>(d.arg, "List")?.items));
    schema = q.schema ?? model.creationSchema;
    name = q.name;
  }
  if (model.relations.has(key(schema, name))) return;
  col.sequence = addRelation(model, { schema, name }, "sequence", origin, false);
}

/** Drops the sequence a serial / identity column owns along with it. */
function dropSequence(model: SchemaModel, col: ColumnModel): void {
  if (col.sequence) dropRelation(model, col.sequence);
  col.sequence = undefined;
}

/** A column's DEFAULT clause (undefined: DROP DEFAULT). */
function setDefault(col: ColumnModel, expr: Node | undefined): void {
  col.defaultKey = defaultKey(expr, col.type);
  col.nullDefault = expr !== undefined && col.defaultKey === undefined;
}

const constraintKinds: Partial<Record<string, ConstraintKind>> = {
  CONSTR_PRIMARY: "primary",
  CONSTR_UNIQUE: "unique",
  CONSTR_CHECK: "check",
  CONSTR_FOREIGN: "foreign",
  CONSTR_EXCLUSION: "exclusion",
};

/** The columns a constraint covers (for a column constraint, that column). */
export function constraintColumns(con: Constraint, column: string | undefined): string[] {
  if (column !== undefined) return [column];
  switch (con.contype) {
    case "CONSTR_PRIMARY":
    case "CONSTR_UNIQUE":
      return strings(con.keys);
    case "CONSTR_FOREIGN":
      return strings(con.fk_attrs);
    case "CONSTR_CHECK":
      return [...columnRefs(con.raw_expr)];
    default: {
      // EXCLUDE (a WITH =, lower(b) WITH =): index elements, by name or by expression.
      const out = new Set<string>();
      for (const pair of con.exclusions ?? []) {
        const e = nodeOf<IndexElem>(nodeOf<{ items?: Node[] }>(pair, "List")?.items?.[0], "IndexElem");
        if (e?.name) out.add(e.name);
        else columnRefs(e?.expr, out);
      }
      return [...out];
    }
  }
}

/**
 * ADD CONSTRAINT ... USING INDEX: the index's key columns (its name in the
 * constraint has none). Postgres renames the index to the constraint's name,
 * so it is refiled under that name. undefined: not USING INDEX.
 */
function usingIndex(model: SchemaModel, rel: RelationModel, con: Constraint): string[] | undefined {
  if (!con.indexname) return undefined;
  const idx = model.index(rel.schema, con.indexname);
  if (!idx) return [];
  if (con.conname && con.conname !== idx.name) refile(model.indexes, idx, { name: con.conname });
  return idx.columns;
}

function addConstraint(
  schema: SchemaModel,
  rel: RelationModel,
  con: Constraint,
  col: ColumnModel | undefined,
  origin: Origin,
  keyColumns?: string[],
): void {
  switch (con.contype) {
    case "CONSTR_NOTNULL":
      if (col) col.notNull = true;
      return;
    case "CONSTR_NULL":
      if (col) col.notNull = false;
      return;
    case "CONSTR_DEFAULT":
      if (col) setDefault(col, con.raw_expr);
      return;
    case "CONSTR_IDENTITY":
      if (col) {
        col.generated = true;
        col.identity = true;
        col.notNull = true;
        col.identityAlways = con.generated_when === "a";
      }
      return;
    case "CONSTR_GENERATED":
      if (col) col.generated = true;
      return;
  }
  const kind = constraintKinds[con.contype ?? ""];
  if (!kind) return;
  const columns = keyColumns ?? constraintColumns(con, col?.name);
  const name = con.conname ?? defaultConstraintName(rel.name, kind, columns);
  const model: ConstraintModel = { name, kind, columns, origin };
  if (kind === "foreign") model.foreignKey = foreignKeyOf(schema, rel, con);
  // Validated only when it is not NOT VALID: then old rows and old writes satisfied it.
  if (kind === "check" && con.raw_expr && !con.skip_validation) model.check = con.raw_expr;
  rel.constraints.set(name, model);
  if (kind === "primary") {
    for (const c of columns) {
      const m = rel.columns.get(c);
      if (m) m.notNull = true;
    }
  }
}

/** A FOREIGN KEY's definition (ForeignKeyModel), resolved against the schema as it stands. */
export function foreignKeyOf(model: SchemaModel, rel: RelationModel, con: Constraint): ForeignKeyModel {
  const q = fromRangeVar(con.pktable);
  // A self-reference of the table being created resolves to it, not to an older one of that name.
  const self = q.name === rel.name && (q.schema === undefined || q.schema === rel.schema);
  const references = self && !model.relation(q.schema, q.name) ? rel : model.relation(q.schema, q.name);
  const written = strings(con.pk_attrs);
  const pkey = [...(references?.constraints.values() ?? [])].find((c) => c.kind === "primary");
  return {
    references,
    referencesKey: references
      ? key(references.schema, references.name)
      : key(model.resolveSchema("relations", q.schema, q.name), q.name),
    refColumns: written.length > 0 ? written : [...(pkey?.columns ?? [])],
    onDelete: con.fk_del_action ?? "a",
    onUpdate: con.fk_upd_action ?? "a",
    // SET NULL / SET DEFAULT (cols) naming every column of the key is the plain action.
    onDeleteColumns: setColumns(strings(con.fk_del_set_cols), strings(con.fk_attrs)),
    match: con.fk_matchtype === "f" ? "f" : "s",
    deferrable: con.deferrable === true,
    initiallyDeferred: con.initdeferred === true,
  };
}

function setColumns(cols: string[], keyColumns: string[]): string[] {
  const sorted = cols.sort();
  const all = [...new Set(keyColumns)].sort();
  return sorted.length === all.length && sorted.every((c, i) => c === all[i]) ? [] : sorted;
}

const nameLabels: Record<ConstraintKind, string> = {
  primary: "pkey",
  unique: "key",
  check: "check",
  foreign: "fkey",
  exclusion: "excl",
};

/**
 * The name Postgres gives an unnamed constraint (ChooseConstraintName /
 * ChooseIndexName): t_pkey; t_a_b_key, t_a_b_fkey, t_a_b_excl; t_a_check for a
 * CHECK over one column, t_check otherwise. Collisions (t_a_key1) and the
 * 63-byte truncation are not modelled.
 */
export function defaultConstraintName(table: string, kind: ConstraintKind, columns: string[]): string {
  const cols = kind === "primary" || (kind === "check" && columns.length !== 1) ? [] : columns;
  return [table, ...cols, nameLabels[kind]].join("_");
}

function alterTable(model: SchemaModel, a: AlterTableStmt, origin: Origin): void {
  const q = fromRangeVar(a.relation);
  if (a.objtype === "OBJECT_INDEX") return;
  const rel = relationFor(model, q);
  try {
    alterCommands(model, rel, a, origin);
  } finally {
    noteConstraints(model, rel);
  }
}

function alterCommands(model: SchemaModel, rel: RelationModel, a: AlterTableStmt, origin: Origin): void {
  for (const n of a.cmds ?? []) {
    const cmd = nodeOf<AlterTableCmd>(n, "AlterTableCmd");
    if (!cmd) continue;
    const col = cmd.name !== undefined ? rel.columns.get(cmd.name) : undefined;
    switch (cmd.subtype) {
      case "AT_AddColumn": {
        const def = nodeOf<ColumnDef>(cmd.def, "ColumnDef");
        if (def && !(cmd.missing_ok && def.colname && rel.columns.has(def.colname)))
          addColumn(model, rel, def, origin);
        break;
      }
      case "AT_DropColumn":
        if (col) {
          noteDroppedColumn(rel, col, origin);
          rel.columns.delete(col.name);
          dropSequence(model, col);
        }
        break;
      case "AT_AlterColumnType": {
        const def = nodeOf<ColumnDef>(cmd.def, "ColumnDef");
        if (col && def) col.type = sqlType(def.typeName);
        break;
      }
      case "AT_SetNotNull":
        if (col) col.notNull = true;
        break;
      case "AT_DropNotNull":
        if (col) col.notNull = false;
        break;
      case "AT_ColumnDefault":
        // SET DEFAULT (def) or DROP DEFAULT (none).
        if (col) setDefault(col, cmd.def);
        break;
      case "AT_AddIdentity":
        if (col) {
          const con = nodeOf<Constraint>(cmd.def, "Constraint");
          col.generated = true;
          col.identity = true;
          col.identityAlways = con?.generated_when === "a";
          if (con) addOwnedSequence(model, rel, col, con.options, origin);
        }
        break;
      case "AT_SetIdentity": {
        const always = identityGeneratedAlways(cmd);
        if (col && always !== undefined) col.identityAlways = always;
        break;
      }
      case "AT_DropIdentity":
      case "AT_DropExpression":
        if (col) {
          if (col.identity) dropSequence(model, col);
          col.generated = false;
          col.identity = false;
          col.identityAlways = false;
        }
        break;
      case "AT_AddConstraint": {
        const con = nodeOf<Constraint>(cmd.def, "Constraint");
        if (con) addConstraint(model, rel, con, undefined, origin, usingIndex(model, rel, con));
        break;
      }
      case "AT_EnableRowSecurity":
        rel.rowSecurity ??= origin;
        break;
      case "AT_DisableRowSecurity":
        rel.rowSecurity = undefined;
        break;
      case "AT_DropConstraint":
        if (cmd.name !== undefined) {
          const con = rel.constraints.get(cmd.name);
          // Its index goes with it (ADD ... USING INDEX filed the index under the constraint's name).
          if (con && indexKinds.has(con.kind)) model.indexes.delete(key(rel.schema, con.name));
          rel.constraints.delete(cmd.name);
          if (con && con.kind !== "exclusion" && (con.kind !== "check" || con.check) && origin.inChangeSet) {
            // Only this change set's drops matter (a key redefined in it); older ones are let go.
            const kept = (rel.droppedConstraints ?? []).filter((d) => d.by.inChangeSet);
            rel.droppedConstraints = [...kept, { constraint: con, by: origin }];
          }
        }
        break;
    }
  }
}

/** ALTER COLUMN ... SET GENERATED ALWAYS (true) / BY DEFAULT (false); undefined: neither. */
export function identityGeneratedAlways(cmd: AlterTableCmd): boolean | undefined {
  for (const n of nodeOf<{ items?: Node[] }>(cmd.def, "List")?.items ?? []) {
    const d = nodeOf<{ defname?: string; arg?: Node }>(n, "DefElem");
    if (d?.defname !== "generated") continue;
    const v = nodeOf<{ ival?: number }>(d.arg, "Integer")?.ival;
    return v === 97; // 'a' (ATTRIBUTE_IDENTITY_ALWAYS); 'd' is BY DEFAULT
  }
  return undefined;
}

function renameKeys<T extends { schema: string; name: string }>(
  map: Map<string, T>,
  from: string,
  to: string,
): void {
  for (const v of [...map.values()]) if (v.schema === from) refile(map, v, { schema: to });
}

/** Files an object of a schema-keyed map under a new schema and/or name (none: no object). */
function refile<T extends { schema: string; name: string }>(
  map: Map<string, T>,
  v: T | undefined,
  to: { schema?: string; name?: string },
): void {
  if (!v) return;
  map.delete(key(v.schema, v.name));
  if (to.schema !== undefined) v.schema = to.schema;
  if (to.name !== undefined) v.name = to.name;
  map.set(key(v.schema, v.name), v);
}

/** Files an entry of a name-keyed map (a relation's columns or constraints) under a new name. */
function renameEntry<T extends { name: string }>(
  map: Map<string, T> | undefined,
  from: string | undefined,
  to: string,
): void {
  if (map === undefined || from === undefined) return;
  const v = map.get(from);
  if (!v) return;
  map.delete(from);
  v.name = to;
  map.set(to, v);
}

function rename(model: SchemaModel, r: RenameStmt, origin: Origin): void {
  const newname = r.newname ?? "";
  switch (r.renameType) {
    case "OBJECT_COLUMN": {
      const rel = relationFor(model, fromRangeVar(r.relation));
      const col = r.subname !== undefined ? rel.columns.get(r.subname) : undefined;
      if (col) {
        noteDroppedColumn(rel, col, origin);
        if (col.renamed?.by.inChangeSet) {
          // Renamed back to the name old code knows: it is that column again.
          if (col.renamed.from === newname) col.renamed = undefined;
        } else if (origin.inChangeSet && !col.origin.inChangeSet)
          col.renamed = { by: origin, from: col.name };
      }
      renameEntry(rel.columns, r.subname, newname);
      return;
    }
    case "OBJECT_TABLE":
    case "OBJECT_VIEW":
    case "OBJECT_MATVIEW":
    case "OBJECT_SEQUENCE":
    case "OBJECT_FOREIGN_TABLE": {
      const q = fromRangeVar(r.relation);
      const rel = model.relation(q.schema, q.name);
      refile(model.relations, rel, { name: newname });
      if (rel) {
        rel.namedBy = origin;
        retarget(model, rel);
      }
      return;
    }
    case "OBJECT_INDEX": {
      // Renaming the index of a PRIMARY KEY / UNIQUE / EXCLUDE constraint renames the constraint too.
      const q = fromRangeVar(r.relation);
      const owner = indexConstraint(model, q);
      if (owner) {
        renameEntry(owner.relation.constraints, owner.constraint.name, newname);
        noteConstraint(model, owner.relation, newname);
      }
      refile(model.indexes, model.index(q.schema, q.name), { name: newname });
      return;
    }
    case "OBJECT_POLICY": {
      const q = fromRangeVar(r.relation);
      renameEntry(model.relation(q.schema, q.name)?.policies, r.subname, newname);
      return;
    }
    case "OBJECT_TABCONSTRAINT": {
      // ... and the other way round.
      const q = fromRangeVar(r.relation);
      const rel = model.relation(q.schema, q.name);
      const con = r.subname !== undefined ? rel?.constraints.get(r.subname) : undefined;
      if (rel && con && indexKinds.has(con.kind)) {
        refile(model.indexes, model.indexes.get(key(rel.schema, con.name)), { name: newname });
        noteConstraint(model, rel, newname);
      }
      renameEntry(rel?.constraints, r.subname, newname);
      return;
    }
    case "OBJECT_TYPE":
    case "OBJECT_DOMAIN": {
      const q = objectName(r.object);
      refileType(model, model.type(q.schema, q.name), { name: newname }, origin);
      return;
    }
    case "OBJECT_FUNCTION":
    case "OBJECT_PROCEDURE":
    case "OBJECT_ROUTINE": {
      const q = objectName(r.object);
      const f = model.func(q.schema, q.name);
      const before = f && key(f.schema, f.name);
      refile(model.functions, f, { name: newname });
      if (f && before) retargetTriggers(model, before, key(f.schema, f.name));
      return;
    }
    case "OBJECT_SCHEMA": {
      const from = r.subname ?? "";
      const origin = model.schemas.get(from);
      model.schemas.delete(from);
      if (origin) model.schemas.set(newname, origin);
      renameKeys(model.relations, from, newname);
      for (const rel of model.relations.values())
        if (rel.schema === newname) {
          noteConstraints(model, rel);
          retarget(model, rel);
        }
      renameKeys(model.indexes, from, newname);
      renameKeys(model.types, from, newname);
      renameKeys(model.functions, from, newname);
      return;
    }
  }
}

/** The constraint kinds that own an index of the same name. */
export const indexKinds: ReadonlySet<ConstraintKind> = new Set(["primary", "unique", "exclusion"]);

/**
 * The PRIMARY KEY / UNIQUE / EXCLUDE constraint whose index an index name
 * (ALTER INDEX, DROP INDEX) refers to: a constraint of that name on a
 * relation of the schema the name resolves to. undefined: none the model knows.
 */
export function indexConstraint(
  model: SchemaModel,
  q: { schema: string | undefined; name: string },
): { relation: RelationModel; constraint: ConstraintModel } | undefined {
  const schemas = q.schema !== undefined ? [q.schema] : model.searchPath;
  for (const s of schemas) {
    const owners = model.constraintOwners.get(key(s, q.name));
    if (owners === undefined) continue;
    let best: { relation: RelationModel; constraint: ConstraintModel } | undefined;
    for (const rel of owners) {
      const c = rel.schema === s && inModel(model, rel) ? rel.constraints.get(q.name) : undefined;
      if (!c || !indexKinds.has(c.kind)) {
        // No longer an owner (dropped, renamed, moved); a new owner is noted again.
        owners.delete(rel);
        continue;
      }
      // Several relations (the model does not pick PG's t_a_key1 on a collision): the first in the model's order.
      if (best === undefined || rel.seq < best.relation.seq) best = { relation: rel, constraint: c };
    }
    if (best) return best;
  }
  return undefined;
}

/**
 * A type's RENAME TO or SET SCHEMA. Postgres' columns hold the type, not its
 * name, so the columns of the type (or arrays of it) follow it to the new
 * name; the type remembers the name old code knows it by (renamedFrom).
 */
function refileType(
  model: SchemaModel,
  t: TypeModel | undefined,
  to: { schema?: string; name?: string },
  origin: Origin,
): void {
  if (!t) return;
  if (!t.renamedFrom?.by.inChangeSet) t.renamedFrom = { schema: t.schema, name: t.name, by: origin };
  const users: ColumnModel[] = [];
  for (const rel of model.relations.values())
    for (const c of rel.columns.values()) if (typeOf(model, c.type) === t) users.push(c);
  refile(model.types, t, to);
  for (const c of users) {
    // Unqualified, it is found through the search path as before, unless it moved schema.
    const qualify = c.type.name.includes(".") || to.schema !== undefined;
    c.type = { ...c.type, name: qualify ? `${t.schema}.${t.name}` : t.name };
  }
}

function createDomain(model: SchemaModel, d: CreateDomainStmt, origin: Origin): void {
  const t = addType(model, qualified(strings(d.domainname)), "domain", [], origin);
  // A domain over a domain inherits its NOT NULL and its default.
  const base = qualified(strings(d.typeName?.names));
  const parent = model.type(base.schema, base.name);
  if (parent?.kind === "domain") {
    t.notNull = parent.notNull;
    t.hasDefault = parent.hasDefault;
  }
  for (const n of d.constraints ?? []) {
    const con = nodeOf<Constraint>(n, "Constraint");
    if (con?.contype === "CONSTR_NOTNULL") t.notNull = true;
    else if (con?.contype === "CONSTR_NULL") t.notNull = false;
    else if (con?.contype === "CONSTR_DEFAULT") t.hasDefault = defaultKey(con.raw_expr) !== undefined;
  }
}

function alterDomain(model: SchemaModel, a: AlterDomainStmt): void {
  const q = qualified(strings(a.typeName));
  const t = model.type(q.schema, q.name);
  if (!t) return;
  if (a.subtype === "O") t.notNull = true;
  else if (a.subtype === "N") t.notNull = false;
  else if (a.subtype === "T") t.hasDefault = defaultKey(a.def) !== undefined;
}

function moveSchema(model: SchemaModel, a: AlterObjectSchemaStmt, origin: Origin): void {
  const to = { schema: a.newschema ?? "" };
  if (a.relation) {
    const q = fromRangeVar(a.relation);
    const rel = model.relation(q.schema, q.name);
    // Its indexes (constraint indexes too) and owned sequences (serial, identity) move with it.
    if (rel) for (const idx of liveIndexes(model, rel)) refile(model.indexes, idx, to);
    if (rel)
      for (const c of rel.columns.values())
        if (c.sequence && inModel(model, c.sequence)) refile(model.relations, c.sequence, to);
    refile(model.relations, rel, to);
    if (rel) {
      rel.namedBy = origin;
      noteConstraints(model, rel);
      retarget(model, rel);
    }
    return;
  }
  const q = objectName(a.object);
  switch (a.objectType) {
    case "OBJECT_TYPE":
    case "OBJECT_DOMAIN":
      refileType(model, model.type(q.schema, q.name), to, origin);
      return;
    case "OBJECT_FUNCTION":
    case "OBJECT_PROCEDURE":
    case "OBJECT_ROUTINE": {
      const f = model.func(q.schema, q.name);
      const before = f && key(f.schema, f.name);
      refile(model.functions, f, to);
      if (f && before) retargetTriggers(model, before, key(f.schema, f.name));
      return;
    }
  }
}

/** A trigger names its function by OID: a renamed or moved function is still the one it runs. */
function retargetTriggers(model: SchemaModel, from: string, to: string): void {
  for (const t of model.triggers.values()) if (t.func === from) t.func = to;
}

function createIndex(model: SchemaModel, i: IndexStmt, origin: Origin): void {
  const q = fromRangeVar(i.relation);
  const rel = relationFor(model, q);
  const columns = indexColumns(i);
  const name = i.idxname ?? `${rel.name}_${columns.join("_")}_idx`;
  if (i.if_not_exists && model.index(rel.schema, name)) return;
  addIndex(model, rel, {
    schema: rel.schema,
    name,
    relation: key(rel.schema, rel.name),
    unique: i.unique === true,
    columns,
    shape: indexShape(i),
    origin,
  });
}

/**
 * An index's shape (IndexModel.shape): its key columns and expressions as a
 * set (the order of the keys does not change which rows are unique), its
 * WHERE clause and NULLS NOT DISTINCT, without source locations.
 */
export function indexShape(i: IndexStmt): string {
  const keys = (i.indexParams ?? []).map((p) => {
    const e = nodeOf<IndexElem>(p, "IndexElem");
    return e?.name !== undefined && e.collation === undefined && e.opclass === undefined
      ? `col:${e.name}`
      : `expr:${exprKey({ IndexElem: { ...e, ordering: undefined, nulls_ordering: undefined } } as Node)}`;
  });
  return shapeOf(keys, i.whereClause, i.nulls_not_distinct === true);
}

/** The shape of a plain unique index over columns (a PRIMARY KEY's or UNIQUE constraint's). */
export function columnsShape(columns: readonly string[]): string {
  return shapeOf(
    columns.map((c) => `col:${c}`),
    undefined,
    false,
  );
}

function shapeOf(keys: string[], where: Node | undefined, nullsNotDistinct: boolean): string {
  return JSON.stringify([[...keys].sort(), exprKey(where) ?? null, nullsNotDistinct]);
}

/** Key columns of an index, including columns used inside expressions. */
export function indexColumns(i: IndexStmt): string[] {
  const out = new Set<string>();
  for (const p of i.indexParams ?? []) {
    const e = nodeOf<IndexElem>(p, "IndexElem");
    if (!e) continue;
    if (e.name) out.add(e.name);
    else columnRefs(e.expr, out);
  }
  return [...out];
}

/** The relations a DROP of relations names, as the model knows them. */
export function droppedRelations(model: SchemaModel, d: DropStmt): RelationModel[] {
  if (!relationDrops.has(d.removeType ?? "")) return [];
  return (d.objects ?? []).flatMap((o) => {
    const q = objectName(o);
    return model.relation(q.schema, q.name) ?? [];
  });
}

const relationDrops = new Set([
  "OBJECT_TABLE",
  "OBJECT_VIEW",
  "OBJECT_MATVIEW",
  "OBJECT_SEQUENCE",
  "OBJECT_FOREIGN_TABLE",
]);

/**
 * The views and materialized views DROP ... CASCADE of `dropped` takes with
 * it: those whose query reads one of them, transitively (not `dropped` itself).
 */
export function cascadeDependents(model: SchemaModel, dropped: readonly RelationModel[]): RelationModel[] {
  // What is affected, through the reverse map: proportional to it, not to the model.
  const gone = new Set(dropped);
  const affected: RelationModel[] = [];
  for (const stack = [...dropped]; stack.length > 0; ) {
    for (const d of stack.pop()!.dependents) {
      if (gone.has(d) || !inModel(model, d)) continue;
      gone.add(d);
      affected.push(d);
      stack.push(d);
    }
  }
  if (affected.length === 0) return affected;
  // Reported in the order passes over the model's relations find them (what a full scan gives).
  affected.sort((a, b) => a.seq - b.seq);
  const done = new Set(dropped);
  const out: RelationModel[] = [];
  for (let grew = true; grew; ) {
    grew = false;
    for (const rel of affected) {
      if (done.has(rel) || !rel.dependsOn.some((r) => done.has(r))) continue;
      done.add(rel);
      out.push(rel);
      grew = true;
    }
  }
  return out;
}

/** After a relation's rename or move: its indexes name it under its new key (IndexModel.relation). */
function retarget(model: SchemaModel, rel: RelationModel): void {
  const k = key(rel.schema, rel.name);
  for (const idx of liveIndexes(model, rel)) idx.relation = k;
}

/** The indexes of a relation the model still has. */
function liveIndexes(model: SchemaModel, rel: RelationModel): IndexModel[] {
  const out: IndexModel[] = [];
  for (const idx of rel.indexes) {
    if (model.indexes.get(key(idx.schema, idx.name)) === idx) out.push(idx);
    else rel.indexes.delete(idx);
  }
  return out;
}

function dropRelation(model: SchemaModel, rel: RelationModel): void {
  const k = key(rel.schema, rel.name);
  if (model.relations.get(k) !== rel) return;
  model.relations.delete(k);
  setDependsOn(rel, []);
  for (const c of rel.columns.values()) dropSequence(model, c);
  for (const idx of liveIndexes(model, rel))
    if (idx.relation === k) model.indexes.delete(key(idx.schema, idx.name));
}

function drop(model: SchemaModel, d: DropStmt, origin: Origin): void {
  if (d.behavior === "DROP_CASCADE") {
    for (const rel of cascadeDependents(model, droppedRelations(model, d))) dropRelation(model, rel);
  }
  for (const o of d.objects ?? []) {
    const q = objectName(o);
    switch (d.removeType) {
      case "OBJECT_TABLE":
      case "OBJECT_VIEW":
      case "OBJECT_MATVIEW":
      case "OBJECT_SEQUENCE":
      case "OBJECT_FOREIGN_TABLE": {
        const rel = model.relation(q.schema, q.name);
        if (rel) dropRelation(model, rel);
        break;
      }
      case "OBJECT_POLICY": {
        // ON t: the object is [schema.]t.policy.
        const parts = strings(nodeOf<{ items?: Node[] }>(o, "List")?.items);
        const t = qualified(parts.slice(0, -1));
        model.relation(t.schema, t.name)?.policies.delete(parts[parts.length - 1] ?? "");
        break;
      }
      case "OBJECT_EXTENSION":
        model.extensions.delete(str(o) ?? q.name);
        break;
      case "OBJECT_TRIGGER": {
        // [schema.]table.trigger
        const parts = strings(nodeOf<{ items?: Node[] }>(o, "List")?.items);
        const t = qualified(parts.slice(0, -1));
        const rel = model.relation(t.schema, t.name);
        const relKey = rel ? key(rel.schema, rel.name) : key(t.schema ?? model.creationSchema, t.name);
        const k = `${relKey}\0${parts[parts.length - 1] ?? ""}`;
        const trigger = model.triggers.get(k);
        model.triggers.delete(k);
        if (trigger && origin.inChangeSet) {
          model.droppedTriggers = model.droppedTriggers.filter((d) => d.by.inChangeSet);
          model.droppedTriggers.push({ trigger, by: origin });
        }
        break;
      }
      case "OBJECT_INDEX": {
        const idx = model.index(q.schema, q.name);
        if (idx) model.indexes.delete(key(idx.schema, idx.name));
        const rel = idx?.unique && origin.inChangeSet ? model.relations.get(idx.relation) : undefined;
        if (rel && idx) {
          const kept = (rel.droppedIndexes ?? []).filter((x) => x.by.inChangeSet);
          rel.droppedIndexes = [...kept, { index: idx, by: origin }];
        }
        break;
      }
      case "OBJECT_TYPE":
      case "OBJECT_DOMAIN": {
        const t = model.type(q.schema, q.name);
        if (t) model.types.delete(key(t.schema, t.name));
        break;
      }
      case "OBJECT_FUNCTION":
      case "OBJECT_PROCEDURE":
      case "OBJECT_ROUTINE": {
        const f = model.func(q.schema, q.name);
        if (f) model.functions.delete(key(f.schema, f.name));
        break;
      }
      case "OBJECT_SCHEMA": {
        const s = str(o) ?? q.name;
        model.schemas.delete(s);
        for (const m of [model.relations, model.indexes, model.types, model.functions] as Map<
          string,
          { schema: string }
        >[]) {
          for (const [k, v] of [...m]) if (v.schema === s) m.delete(k);
        }
        break;
      }
    }
  }
}

function alterEnum(model: SchemaModel, a: AlterEnumStmt, origin: Origin): void {
  const q = qualified(strings(a.typeName));
  const t = model.type(q.schema, q.name) ?? addType(model, q, "enum", [], outside());
  if (a.oldVal !== undefined && a.newVal !== undefined) {
    t.values = t.values.map((v) => (v === a.oldVal ? a.newVal! : v));
    const added = t.newValues.get(a.oldVal);
    if (added) {
      t.newValues.delete(a.oldVal);
      t.newValues.set(a.newVal, added);
    }
  } else if (a.newVal !== undefined && !t.values.includes(a.newVal)) {
    t.values.push(a.newVal);
    // The origin object, not a flag: it stops being "in the change set" when its file is done.
    t.newValues.set(a.newVal, origin);
  }
}
