import type { DropStmt } from "libpg-query";
import { display, type QualifiedName } from "../parse/ast.js";
import { key, type SchemaModel, type TypeModel } from "../schema/model.js";
import { isNew, keepsValues, oldValues, typeOf } from "../schema/queries.js";
import { droppedObjects, movedObject } from "./helpers.js";
import type { Finding, Rule, RuleContext } from "./rule.js";

const typeTypes = ["OBJECT_TYPE", "OBJECT_DOMAIN"];

/**
 * The end of the file for a type renamed or moved away from the name old
 * code casts to: `renamedBack` when that name is the same type again;
 * `replaced` when an enum has taken the name and the old enum is gone (the
 * TypeORM and Prisma enum rebuild: rename the old one to x_old, create the
 * new one, convert the columns, drop x_old; Postgres refuses to drop a type
 * a column still has, so every column was converted). A replacement keeping
 * every old value in order serves old casts and literals as before; one
 * that lacks some is reported here only when no old column was converted to
 * it (incompatible-type-change reports the column's lost values).
 */
function endOf(ctx: RuleContext, q: QualifiedName) {
  const old = ctx.schema.type(q.schema, q.name);
  const k = key(old?.schema ?? ctx.schema.resolveSchema("types", q.schema, q.name), q.name);
  const values = old?.kind === "enum" ? oldValues(old) : undefined;
  return (end: SchemaModel) => {
    const now = end.types.get(k);
    const renamedBack = old !== undefined && now === old;
    const oldGone = old !== undefined && end.types.get(key(old.schema, old.name)) !== old;
    const replaced = values !== undefined && now?.kind === "enum" && oldGone;
    return {
      renamedBack,
      replaced,
      keeps: replaced && keepsValues(values, now.values),
      // An old column now of the replacement was converted: incompatible-type-change judged what it lost.
      converted: () =>
        now !== undefined &&
        [...end.relations.values()].some((r) =>
          [...r.columns.values()].some((c) => !isNew(c) && typeOf(end, c.type) === now),
        ),
    };
  };
}

/** A type's name is new when a rename in this change set gave it: old code never named the type so. */
const renamedHere = (t: TypeModel | undefined) => t?.renamedFrom?.by.inChangeSet === true;

export const dropType: Rule = {
  id: "drop-type",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "Dropping a type or domain the previous generation may cast to, or renaming it or moving it to another schema.",
  hint: "Stop using the type in one deploy (columns, casts, function signatures), then drop it later with `-- compat: breaking (reason: ...)`.",
  kinds: ["DropStmt", "RenameStmt", "AlterObjectSchemaStmt"],
  check(ctx) {
    // A rename or a move is a drop for old casts (`$1::order_status`): the old name stops resolving.
    const moved = movedObject(ctx, typeTypes);
    if (moved) {
      const t = ctx.schema.type(moved.name.schema, moved.name.name);
      if (isNew(t) || renamedHere(t)) return [];
      const end = endOf(ctx, moved.name);
      const span = ctx.find(/rename\s+to|set\s+schema/i);
      // At most one of the two survives the end of the file.
      const out: Finding[] = [
        {
          message: `${moved.action}; the previous generation still casts to it by its old name`,
          hint: "Stop naming the type in code (casts, function signatures) in one deploy, then rename or move it in a later change set with `-- compat: breaking (reason: ...)`.",
          span,
          withdrawnIf: (m) => {
            const e = end(m);
            return e.renamedBack || e.replaced;
          },
        },
      ];
      if (t?.kind === "enum") {
        const values = oldValues(t)
          .map((v) => `'${v}'`)
          .join(", ");
        out.push({
          message: `${moved.action}; the enum that takes the name ${display(moved.name)} by the end of the file lacks or reorders its values (${values}): the previous generation's casts, literals and comparisons of them fail or change`,
          hint: "Keep every value, in the same order, in the enum that takes the old name (add new ones anywhere); removing or renaming a value takes a marked change set once no generation writes it.",
          span,
          withdrawnIf: (m) => {
            const e = end(m);
            return !e.replaced || e.keeps || e.converted();
          },
        });
      }
      return out;
    }
    return droppedObjects(ctx, typeTypes, (q, d: DropStmt) => {
      const t = ctx.schema.type(q.schema, q.name);
      // IF EXISTS of a name no type has now in the replayed history (never created, or renamed
      // away earlier in the file: `ALTER TYPE e RENAME TO e_old; ... DROP TYPE IF EXISTS e`).
      if (isNew(t) || (t === undefined && d.missing_ok)) return undefined;
      // x_old of the enum rebuild: the rename's finding speaks for the name old code uses.
      // CASCADE would drop the columns still of this type, so that is still reported.
      if (renamedHere(t) && d.behavior !== "DROP_CASCADE") return undefined;
      return {
        message: `dropping ${d.removeType === "OBJECT_DOMAIN" ? "domain" : "type"} ${display(q)}; the previous generation may still cast to it`,
        span: ctx.find(/drop\s+(?:type|domain)/i),
      };
    });
  },
};
