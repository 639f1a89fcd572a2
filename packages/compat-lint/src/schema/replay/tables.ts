import type {
  AlterTableCmd,
  AlterTableStmt,
  ColumnDef,
  Constraint,
  CreateStmt,
  IndexStmt,
  TableLikeClause,
} from "libpg-query";
import { fromRangeVar, nodeOf } from "../../parse/ast.js";
import { type ColumnModel, key, type Origin, type RelationModel, type SchemaModel } from "../model.js";
import { columnsShape, identityGeneratedAlways, indexColumns, indexKinds, indexShape } from "../queries.js";
import { sqlType } from "../sql-type.js";
import {
  addColumn,
  addConstraint,
  defaultConstraintName,
  setDefault,
  usingIndex,
} from "./columns-and-constraints.js";
import {
  addIndex,
  addOwnedSequence,
  addRelation,
  dropSequence,
  liveIndexes,
  noteConstraints,
  noteDroppedColumn,
  relationFor,
  setDependsOn,
} from "./relations.js";

/** Replay of CREATE TABLE (including LIKE), ALTER TABLE (one command at a time) and CREATE INDEX. */

export function createTable(model: SchemaModel, c: CreateStmt, origin: Origin): void {
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

export function alterTable(model: SchemaModel, a: AlterTableStmt, origin: Origin): void {
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

export function createIndex(model: SchemaModel, i: IndexStmt, origin: Origin): void {
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
