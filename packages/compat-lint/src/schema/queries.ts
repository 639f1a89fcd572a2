import type {
  AlterPolicyStmt,
  AlterTableCmd,
  Constraint,
  CreatePolicyStmt,
  DropStmt,
  IndexElem,
  IndexStmt,
  Node,
  TypeName,
} from "libpg-query";
import { columnRefs, exprKey, fromRangeVar, nodeOf, objectName, strings } from "../parse/ast.js";
import {
  type ColumnModel,
  type ConstraintKind,
  type ConstraintModel,
  type ForeignKeyModel,
  key,
  type Origin,
  type PolicyClause,
  type PolicyModel,
  type RelationModel,
  type SchemaModel,
  type TypeModel,
} from "./model.js";
import { type SqlType, sameType, sqlType } from "./sql-type.js";

/**
 * What the rules ask of the schema model and of a statement: whether an
 * object is new in the change set, what a column's default, a constraint's
 * columns, an index's shape or a policy look like, what a DROP ... CASCADE
 * takes with it. Read-only: nothing here changes the model (replay does, and
 * asks the same questions). Rules import these from here, never from replay.
 */

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

/** A policy that admits every row to every role for every command: PERMISSIVE, FOR ALL, TO PUBLIC, USING (true), WITH CHECK (true) or none. */
export function admitsEverything(p: PolicyModel): boolean {
  return p.permissive && p.allCommands && p.toPublic && p.using === "true" && p.check !== "other";
}

/**
 * Whether a table's policies leave every row to everyone: a policy that
 * admits everything, and no RESTRICTIVE one that may filter rows (a row must
 * pass every restrictive policy, whatever the permissive ones admit).
 */
export function openPolicies(policies: Iterable<PolicyModel>): boolean {
  let open = false;
  for (const p of policies) {
    if (mayRestrict(p)) return false;
    if (admitsEverything(p)) open = true;
  }
  return open;
}

/**
 * A RESTRICTIVE policy that may filter rows: whatever the permissive
 * policies admit, a row must also pass it (an absent clause restricts nothing).
 */
export function mayRestrict(p: PolicyModel): boolean {
  return !p.permissive && (p.using === "other" || p.check === "other");
}

/** The name the previous generation knows a type by: the one it had before this change set renamed or moved it. */
export function knownName(t: TypeModel): { schema: string; name: string } {
  return t.renamedFrom?.by.inChangeSet ? t.renamedFrom : { schema: t.schema, name: t.name };
}

/**
 * The values of an enum the previous generation may write: all but those
 * added in this change set.
 */
export function oldValues(t: TypeModel): string[] {
  return t.values.filter((v) => t.newValues.get(v)?.inChangeSet !== true);
}

/**
 * Whether an enum's values keep `old` in the same order (other values may
 * be added anywhere): every label old code writes is accepted, and compares
 * and sorts the same against the others.
 */
export function keepsValues(old: readonly string[], values: readonly string[]): boolean {
  let i = 0;
  for (const v of values) if (v === old[i]) i++;
  return i === old.length;
}

/** The domain a column of type `t` is of (not an array of it), if the model knows one. */
export function domainOf(model: SchemaModel, t: SqlType): TypeModel | undefined {
  if (t.arrayDims > 0) return undefined;
  const found = typeOf(model, t);
  return found?.kind === "domain" ? found : undefined;
}

/** The user-defined type a column type names (or is an array of), if the model knows it. */
export function typeOf(model: SchemaModel, t: SqlType): TypeModel | undefined {
  if (t.name === "") return undefined;
  const dot = t.name.lastIndexOf(".");
  return dot < 0 ? model.type(undefined, t.name) : model.type(t.name.slice(0, dot), t.name.slice(dot + 1));
}

/**
 * Whether an INSERT that omits the column stores something else than NULL:
 * its DEFAULT, identity or generation expression, or (no DEFAULT of its own,
 * not even DEFAULT NULL) its domain's DEFAULT.
 */
export function filledOnInsert(model: SchemaModel, c: ColumnModel): boolean {
  if (c.defaultKey !== undefined || c.generated) return true;
  return !c.nullDefault && domainOf(model, c.type)?.hasDefault === true;
}

/** Whether a relation object is the one the model has under its name (not dropped or replaced). */
export function inModel(model: SchemaModel, rel: RelationModel): boolean {
  return model.relations.get(key(rel.schema, rel.name)) === rel;
}

/** Whether an object is new in this change set (unknown objects are not). */
export function isNew(o: { origin: Origin } | undefined): boolean {
  return o?.origin.inChangeSet === true;
}

/**
 * The column old code knew by `name` on `relation`, when a file of the change set dropped it or
 * renamed it away (so a column of that name now is a replacement): old INSERTs still write it
 * by that name, whatever the new column's origin says.
 */
export function replacedColumn(relation: RelationModel | undefined, name: string): ColumnModel | undefined {
  return relation?.droppedColumns?.find((d) => d.by.inChangeSet && d.column.name === name)?.column;
}
