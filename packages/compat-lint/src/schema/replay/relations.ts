import type { Node } from "libpg-query";
import { nodeOf, qualified, strings } from "../../parse/ast.js";
import {
  type ColumnModel,
  type IndexModel,
  key,
  type Origin,
  type RelationKind,
  type RelationModel,
  type SchemaModel,
} from "../model.js";
import { indexKinds } from "../queries.js";

/**
 * Replay's bookkeeping of relations: adding one (or a placeholder for one the
 * model never saw), their owned sequences, indexes, constraint-name owners
 * and view dependencies, refiling under a new name, and dropping one.
 */

/** Where an object the model never saw is taken to come from: before the change set. */
export function outside(): Origin {
  return { file: "(outside the linted files)", inChangeSet: false };
}

export function addRelation(
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

/** Sets what a view reads, keeping the reverse (RelationModel.dependents) in step. */
export function setDependsOn(rel: RelationModel, deps: RelationModel[]): void {
  for (const d of rel.dependsOn) d.dependents.delete(rel);
  rel.dependsOn = deps;
  for (const d of deps) d.dependents.add(rel);
}

/** Records the relation as owner of its PRIMARY KEY / UNIQUE / EXCLUDE constraints' names (SchemaModel.constraintOwners). */
export function noteConstraints(model: SchemaModel, rel: RelationModel): void {
  for (const c of rel.constraints.values()) if (indexKinds.has(c.kind)) noteConstraint(model, rel, c.name);
}

export function noteConstraint(model: SchemaModel, rel: RelationModel, name: string): void {
  const k = key(rel.schema, name);
  const owners = model.constraintOwners.get(k);
  if (owners === undefined) model.constraintOwners.set(k, new Set([rel]));
  else owners.add(rel);
}

/** Files a new index in the model and under its relation. */
export function addIndex(model: SchemaModel, rel: RelationModel, idx: IndexModel): void {
  model.indexes.set(key(idx.schema, idx.name), idx);
  rel.indexes.add(idx);
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
export function addOwnedSequence(
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
export function dropSequence(model: SchemaModel, col: ColumnModel): void {
  if (col.sequence) dropRelation(model, col.sequence);
  col.sequence = undefined;
}

export function renameKeys<T extends { schema: string; name: string }>(
  map: Map<string, T>,
  from: string,
  to: string,
): void {
  for (const v of [...map.values()]) if (v.schema === from) refile(map, v, { schema: to });
}

/** Files an object of a schema-keyed map under a new schema and/or name (none: no object). */
export function refile<T extends { schema: string; name: string }>(
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
export function renameEntry<T extends { name: string }>(
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

/** After a relation's rename or move: its indexes name it under its new key (IndexModel.relation). */
export function retarget(model: SchemaModel, rel: RelationModel): void {
  const k = key(rel.schema, rel.name);
  for (const idx of liveIndexes(model, rel)) idx.relation = k;
}

/** The indexes of a relation the model still has. */
export function liveIndexes(model: SchemaModel, rel: RelationModel): IndexModel[] {
  const out: IndexModel[] = [];
  for (const idx of rel.indexes) {
    if (model.indexes.get(key(idx.schema, idx.name)) === idx) out.push(idx);
    else rel.indexes.delete(idx);
  }
  return out;
}

export function dropRelation(model: SchemaModel, rel: RelationModel): void {
  const k = key(rel.schema, rel.name);
  if (model.relations.get(k) !== rel) return;
  model.relations.delete(k);
  setDependsOn(rel, []);
  for (const c of rel.columns.values()) dropSequence(model, c);
  for (const idx of liveIndexes(model, rel))
    if (idx.relation === k) model.indexes.delete(key(idx.schema, idx.name));
}

/** Records, for replacedColumn, that `origin` drops or renames away `column` of `relation`. */
export function noteDroppedColumn(relation: RelationModel, column: ColumnModel, origin: Origin): void {
  if (!origin.inChangeSet || column.origin.inChangeSet) return;
  const kept = (relation.droppedColumns ?? []).filter(
    (d) => d.by.inChangeSet && d.column.name !== column.name,
  );
  relation.droppedColumns = [...kept, { column: { ...column }, by: origin }];
}
