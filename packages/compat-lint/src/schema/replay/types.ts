import type { AlterDomainStmt, AlterEnumStmt, Constraint, CreateDomainStmt } from "libpg-query";
import { nodeOf, qualified, strings } from "../../parse/ast.js";
import {
  type ColumnModel,
  key,
  type Origin,
  type SchemaModel,
  type TypeKind,
  type TypeModel,
} from "../model.js";
import { defaultKey, typeOf } from "../queries.js";
import { outside, refile } from "./relations.js";

/** Replay of enums, domains and other user-defined types: creation, ALTER TYPE/DOMAIN, and their renames. */

export function addType(
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

/**
 * A type's RENAME TO or SET SCHEMA. Postgres' columns hold the type, not its
 * name, so the columns of the type (or arrays of it) follow it to the new
 * name; the type remembers the name old code knows it by (renamedFrom).
 */
export function refileType(
  model: SchemaModel,
  t: TypeModel | undefined,
  to: { schema?: string; name?: string },
  origin: Origin,
): void {
  if (!t) return;
  if (!t.renamedFrom?.by.inChangeSet) t.renamedFrom = { schema: t.schema, name: t.name, by: origin };
  // Every column of every relation is scanned, so most are ruled out by name first: typeOf
  // resolves the part after the last dot, and the model files each type under its own name
  // (addType, refile), so a column whose type name ends otherwise cannot be of type t. The
  // search-path lookup runs only for the few that remain (a rename in a large schema used to
  // resolve every column's type: ~5 ms on the real-world corpus).
  const users: ColumnModel[] = [];
  const name = t.name;
  // forEach, not for...of: without TurboFan (the CLI's --no-opt) each for...of step allocates
  // an iterator result, and this visits every column of the model.
  const visit = (c: ColumnModel) => {
    const n = c.type.name;
    if (!n.endsWith(name) || (n.length !== name.length && n[n.length - name.length - 1] !== ".")) return;
    if (typeOf(model, c.type) === t) users.push(c);
  };
  model.relations.forEach((rel) => {
    rel.columns.forEach(visit);
  });
  refile(model.types, t, to);
  for (const c of users) {
    // Unqualified, it is found through the search path as before, unless it moved schema.
    const qualify = c.type.name.includes(".") || to.schema !== undefined;
    c.type = { ...c.type, name: qualify ? `${t.schema}.${t.name}` : t.name };
  }
}

export function createDomain(model: SchemaModel, d: CreateDomainStmt, origin: Origin): void {
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

export function alterDomain(model: SchemaModel, a: AlterDomainStmt): void {
  const q = qualified(strings(a.typeName));
  const t = model.type(q.schema, q.name);
  if (!t) return;
  if (a.subtype === "O") t.notNull = true;
  else if (a.subtype === "N") t.notNull = false;
  else if (a.subtype === "T") t.hasDefault = defaultKey(a.def) !== undefined;
}

export function alterEnum(model: SchemaModel, a: AlterEnumStmt, origin: Origin): void {
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
