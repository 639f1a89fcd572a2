import type { DropStmt, Node } from "libpg-query";
import { nodeOf, objectName, qualified, str, strings } from "../../parse/ast.js";
import { key, type Origin, type SchemaModel } from "../model.js";
import { cascadeDependents, droppedRelations } from "../queries.js";
import { dropRelation } from "./relations.js";

/** Replay of DROP (of any object kind), with CASCADE's dependent views. */

export function drop(model: SchemaModel, d: DropStmt, origin: Origin): void {
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
