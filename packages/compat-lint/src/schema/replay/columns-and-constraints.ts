import type { ColumnDef, Constraint, Node } from "libpg-query";
import { nodeOf } from "../../parse/ast.js";
import type {
  ColumnModel,
  ConstraintKind,
  ConstraintModel,
  Origin,
  RelationModel,
  SchemaModel,
} from "../model.js";
import { constraintColumns, defaultKey, foreignKeyOf } from "../queries.js";
import { isSerial, sqlType } from "../sql-type.js";
import { addOwnedSequence, refile } from "./relations.js";

/** Replay of a column definition and of a constraint (in CREATE TABLE or ALTER TABLE ADD): what they add to a relation. */

export function addColumn(
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

/** A column's DEFAULT clause (undefined: DROP DEFAULT). */
export function setDefault(col: ColumnModel, expr: Node | undefined): void {
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

/**
 * ADD CONSTRAINT ... USING INDEX: the index's key columns (its name in the
 * constraint has none). Postgres renames the index to the constraint's name,
 * so it is refiled under that name. undefined: not USING INDEX.
 */
export function usingIndex(model: SchemaModel, rel: RelationModel, con: Constraint): string[] | undefined {
  if (!con.indexname) return undefined;
  const idx = model.index(rel.schema, con.indexname);
  if (!idx) return [];
  if (con.conname && con.conname !== idx.name) refile(model.indexes, idx, { name: con.conname });
  return idx.columns;
}

export function addConstraint(
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
