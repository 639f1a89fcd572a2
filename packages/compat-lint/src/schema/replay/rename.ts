import type { AlterObjectSchemaStmt, RenameStmt } from "libpg-query";
import { fromRangeVar, objectName } from "../../parse/ast.js";
import { key, type Origin, type SchemaModel } from "../model.js";
import { indexConstraint, indexKinds, inModel } from "../queries.js";
import {
  liveIndexes,
  noteConstraint,
  noteConstraints,
  noteDroppedColumn,
  refile,
  relationFor,
  renameEntry,
  renameKeys,
  retarget,
} from "./relations.js";
import { refileType } from "./types.js";

/** Replay of RENAME (tables, columns, constraints, indexes, types, schemas, ...) and SET SCHEMA. */

export function rename(model: SchemaModel, r: RenameStmt, origin: Origin): void {
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

export function moveSchema(model: SchemaModel, a: AlterObjectSchemaStmt, origin: Origin): void {
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
