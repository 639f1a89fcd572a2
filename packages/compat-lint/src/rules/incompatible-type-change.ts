import type { ColumnDef } from "libpg-query";
import { nodeOf } from "../parse/ast.js";
import { type ColumnModel, key, type RelationModel, type SchemaModel } from "../schema/model.js";
import { inModel, keepsValues, knownName, oldValues, typeOf } from "../schema/queries.js";
import { formatType, type SqlType, sqlType, typeChange } from "../schema/sql-type.js";
import { existingColumnCommands, tableName } from "./helpers.js";
import type { Finding, Rule, RuleContext } from "./rule.js";
import { shape } from "./shape.js";

/**
 * A change between two enums the model knows (Prisma's and TypeORM's enum
 * rebuild): judged by their values, not their names. undefined: not that.
 * The new enum must keep every value old code may write, in the same order
 * (comparisons and ORDER BY follow the declaration order). Then the only
 * difference left is the type's name: old code casts to the name it knows
 * (`$1::"Role"`), and an enum converts to no other enum. So it is withdrawn
 * when, by the end of the file, the column's type goes by that name again
 * and still keeps the values.
 */
function enumChange(
  ctx: RuleContext,
  rel: RelationModel | undefined,
  col: ColumnModel,
  to: SqlType,
): { from: string; why: string; withdrawnIf?: (end: SchemaModel) => boolean } | undefined {
  if (col.type.arrayDims !== to.arrayDims) return undefined;
  const a = typeOf(ctx.schema, col.type);
  const b = typeOf(ctx.schema, to);
  if (a?.kind !== "enum" || b?.kind !== "enum" || a === b) return undefined;
  const values = oldValues(a);
  const name = knownName(a);
  const shown = `${name.schema}.${name.name}`;
  // x_old of TypeORM's rebuild is named by what old code knows it as.
  const from = a.renamedFrom?.by.inChangeSet ? shown : formatType(col.type);
  if (!keepsValues(values, b.values)) {
    const lost = values.filter((v) => !b.values.includes(v));
    return {
      from,
      why:
        lost.length > 0
          ? `it lacks ${lost.map((v) => `'${v}'`).join(", ")}, which old code may write, compare or read`
          : `it orders the values differently, so old code's comparisons and ORDER BY change`,
    };
  }
  const k = key(name.schema, name.name);
  return {
    from,
    why: `old code casts to ${shown}, and no enum converts to another: the column's type must go by that name again by the end of the file`,
    withdrawnIf: (end) => {
      if (rel === undefined || !inModel(end, rel) || rel.columns.get(col.name) !== col) return false;
      const now = typeOf(end, col.type);
      return now?.kind === "enum" && end.types.get(k) === now && keepsValues(values, now.values);
    },
  };
}

export const incompatibleTypeChange: Rule = {
  id: "incompatible-type-change",
  category: "contract",
  defaultSeverity: "error",
  summary: "Changing a column's type to one that old code cannot write or reads differently.",
  hint: "Expand/contract: add a column of the new type, write both from the new generation, backfill, switch reads, and drop the old column later.",
  kinds: ["AlterTableStmt.AT_AlterColumnType"],
  check(ctx) {
    const out: Finding[] = [];
    for (const { cmd, column, target, model, relation } of existingColumnCommands(
      ctx,
      "AT_AlterColumnType",
    )) {
      const to = sqlType(nodeOf<ColumnDef>(cmd.def, "ColumnDef")?.typeName);
      // Located only when reported: most type changes in a history are compatible.
      const span = () => ctx.find(shape("alter [column] $", column));
      if (!model || model.type.name === "") {
        out.push({
          message: `changing the type of ${tableName(target)}.${column} to ${formatType(to)}; its current type is unknown (created outside the linted files), so compatibility cannot be shown`,
          span: span(),
        });
        continue;
      }
      const e = enumChange(ctx, relation, model, to);
      if (e) {
        out.push({
          message: `changing ${tableName(target)}.${column} from enum ${e.from} to enum ${formatType(to)} breaks the previous generation: ${e.why}`,
          span: span(),
          withdrawnIf: e.withdrawnIf,
        });
        continue;
      }
      const v = typeChange(model.type, to);
      if (v.compatible) continue;
      out.push({
        message: `changing ${tableName(target)}.${column} from ${formatType(model.type)} to ${formatType(to)} breaks the previous generation: ${v.why}`,
        span: span(),
      });
    }
    return out;
  },
};
