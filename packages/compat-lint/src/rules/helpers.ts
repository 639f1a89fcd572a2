import type {
  AlterObjectSchemaStmt,
  AlterTableCmd,
  AlterTableStmt,
  ColumnDef,
  Constraint,
  DropStmt,
  RenameStmt,
} from "libpg-query";
import { display, fromRangeVar, nodeOf, objectName, type QualifiedName } from "../parse/ast.js";
import type { ColumnModel, RelationModel, SchemaModel } from "../schema/model.js";
import { defaultKey, domainOf, isNew } from "../schema/queries.js";
import { isSerial, sqlType, typeChange } from "../schema/sql-type.js";
import type { Finding, RuleContext } from "./rule.js";

/**
 * What several rules derive from a statement, and the small text helpers
 * their messages share (ctx.find()'s shapes are in ./shape.ts). Everything here reads the
 * statement and the schema; nothing mutates either.
 */

/** One ALTER TABLE sub-command with the relation it targets, as the schema stood before. */
export interface AlterCommand {
  cmd: AlterTableCmd;
  target: QualifiedName;
  /** undefined when the model never saw the relation: treat it as pre-existing. */
  relation: RelationModel | undefined;
}

/** An ALTER TABLE ... ADD CONSTRAINT, with the relation it targets. */
export interface AddedConstraint {
  con: Constraint;
  target: QualifiedName;
  relation: RelationModel | undefined;
}

/** A sub-command on a named column old code may use (see existingColumn). */
export interface ExistingColumnCommand extends AlterCommand {
  column: string;
  /** undefined when the model never saw the column. */
  model: ColumnModel | undefined;
}

/**
 * What several rules derive from the same statement is collected once per
 * statement context (a dozen rules look at the same ALTER TABLE commands).
 * Rules only read the result.
 */
function perStatement<T>(collect: (ctx: RuleContext) => T): (ctx: RuleContext) => T {
  // Kept on the context itself under a symbol of this helper's own, not in a WeakMap: a WeakMap
  // entry is an ephemeron, which every scavenge must process while its key is young, and a
  // context per statement made them one of a run's costs (the context dies with its statement).
  const slot = Symbol("perStatement");
  return (ctx) => {
    const holder = ctx as unknown as Record<symbol, T | undefined>;
    let cached = holder[slot];
    if (cached === undefined) {
      cached = collect(ctx);
      holder[slot] = cached;
    }
    return cached;
  };
}

export const alterCommands: (ctx: RuleContext) => readonly AlterCommand[] =
  perStatement(collectAlterCommands);

/** The constraints an ALTER TABLE adds, in command order. */
export const addedConstraints: (ctx: RuleContext) => readonly AddedConstraint[] = perStatement((ctx) => {
  const out: AddedConstraint[] = [];
  for (const { cmd, target, relation } of alterCommands(ctx)) {
    if (cmd.subtype !== "AT_AddConstraint") continue;
    const con = nodeOf<Constraint>(cmd.def, "Constraint");
    if (con) out.push({ con, target, relation });
  }
  return out;
});

/** The ALTER TABLE sub-commands of one subtype that name a column old code may use. */
export function existingColumnCommands(ctx: RuleContext, subtype: string): ExistingColumnCommand[] {
  const out: ExistingColumnCommand[] = [];
  for (const { cmd, target, relation } of alterCommands(ctx)) {
    if (cmd.subtype !== subtype || cmd.name === undefined) continue;
    const { existing, model } = existingColumn(relation, cmd.name);
    if (existing) out.push({ cmd, target, relation, column: cmd.name, model });
  }
  return out;
}

/**
 * For a DROP of one of `removeTypes`: what `report` finds for each object it
 * names, in order (report returns undefined for an object old code cannot use).
 */
export function droppedObjects(
  ctx: RuleContext,
  removeTypes: readonly string[],
  report: (q: QualifiedName, d: DropStmt) => Finding | undefined,
): Finding[] {
  if (ctx.stmt.kind !== "DropStmt") return [];
  const d = ctx.stmt.body as DropStmt;
  if (!removeTypes.includes(d.removeType ?? "")) return [];
  const out: Finding[] = [];
  for (const o of d.objects ?? []) {
    const f = report(objectName(o), d);
    if (f) out.push(f);
  }
  return out;
}

/** A RENAME TO or SET SCHEMA of a non-relation object (a type, a function): its old name stops resolving. */
export interface MovedObject {
  name: QualifiedName;
  /** "renaming f to g" / "moving f to schema s". */
  action: string;
}

/**
 * For ALTER ... RENAME TO / SET SCHEMA of one of `objectTypes`: the object
 * and what happens to its name; undefined for any other statement.
 */
export function movedObject(ctx: RuleContext, objectTypes: readonly string[]): MovedObject | undefined {
  if (ctx.stmt.kind === "RenameStmt") {
    const r = ctx.stmt.body as RenameStmt;
    if (!objectTypes.includes(r.renameType ?? "")) return undefined;
    const name = objectName(r.object);
    return { name, action: `renaming ${display(name)} to ${r.newname}` };
  }
  if (ctx.stmt.kind === "AlterObjectSchemaStmt") {
    const a = ctx.stmt.body as AlterObjectSchemaStmt;
    if (!objectTypes.includes(a.objectType ?? "") || a.relation) return undefined;
    const name = objectName(a.object);
    return { name, action: `moving ${display(name)} to schema ${a.newschema}` };
  }
  return undefined;
}

function collectAlterCommands(ctx: RuleContext): AlterCommand[] {
  if (ctx.stmt.kind !== "AlterTableStmt") return [];
  const a = ctx.stmt.body as AlterTableStmt;
  if (a.objtype !== undefined && a.objtype !== "OBJECT_TABLE" && a.objtype !== "OBJECT_FOREIGN_TABLE")
    return [];
  const target = fromRangeVar(a.relation);
  const relation = ctx.schema.relation(target.schema, target.name);
  const out: AlterCommand[] = [];
  for (const n of a.cmds ?? []) {
    const cmd = nodeOf<AlterTableCmd>(n, "AlterTableCmd");
    if (cmd) out.push({ cmd, target, relation });
  }
  return out;
}

/**
 * For a relation whose columns the model knows: a test of whether another
 * relation (a view standing in for it) has every one of them, each of a
 * compatible type where both types are known. It captures the columns now.
 */
export function keepsColumns(old: RelationModel): (now: RelationModel) => boolean {
  const columns = [...old.columns.values()].map((c) => ({ name: c.name, type: c.type }));
  return (now) =>
    now.columnsKnown &&
    columns.every((c) => {
      const col = now.columns.get(c.name);
      if (!col) return false;
      if (c.type.name === "") return true;
      return col.type.name !== "" && typeChange(c.type, col.type).compatible;
    });
}

/** A column old code may use: it exists before this change set (or is unknown to the model). */
export function existingColumn(
  relation: RelationModel | undefined,
  column: string,
): { existing: boolean; model: ColumnModel | undefined } {
  if (relation && isNew(relation)) return { existing: false, model: relation.columns.get(column) };
  const model = relation?.columns.get(column);
  // Renamed in this change set: old code knows it only by its old name, where the rename is
  // judged (rename-column); a later change under the new name breaks nothing more.
  if (model?.renamed?.by.inChangeSet) return { existing: false, model: undefined };
  return { existing: !isNew(model), model };
}

/**
 * Whether an ADD COLUMN's column is filled when an INSERT omits it: a DEFAULT
 * other than NULL, serial, identity, a generation expression, or (no DEFAULT
 * clause at all: DEFAULT NULL overrides it) its domain's DEFAULT.
 */
export function columnDefFilled(schema: SchemaModel, def: ColumnDef): boolean {
  const cons = (def.constraints ?? []).flatMap((c) => nodeOf<Constraint>(c, "Constraint") ?? []);
  const defaults = cons.filter((c) => c.contype === "CONSTR_DEFAULT");
  return (
    defaultKey(def.raw_default) !== undefined ||
    isSerial(def.typeName) ||
    defaults.some((c) => defaultKey(c.raw_expr) !== undefined) ||
    cons.some((c) => c.contype === "CONSTR_IDENTITY" || c.contype === "CONSTR_GENERATED") ||
    (def.raw_default === undefined &&
      defaults.length === 0 &&
      domainOf(schema, sqlType(def.typeName))?.hasDefault === true)
  );
}

export function tableName(q: QualifiedName): string {
  return q.schema ? `${q.schema}.${q.name}` : q.name;
}

/** The columns of `cols` old code may use. */
export function existingColumns(relation: RelationModel | undefined, cols: readonly string[]): string[] {
  return cols.filter((c) => existingColumn(relation, c).existing);
}

/** "column t(a)" or "columns t(a, b)", for a non-empty list. */
export function columnList(target: QualifiedName, cols: readonly string[]): string {
  return `column${cols.length > 1 ? "s" : ""} ${tableName(target)}(${cols.join(", ")})`;
}
