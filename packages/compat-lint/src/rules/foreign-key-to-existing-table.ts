import type { ColumnDef, Constraint, CreateStmt } from "libpg-query";
import { fromRangeVar, nodeOf, type QualifiedName, strings } from "../parse/ast.js";
import { key } from "../schema/model.js";
import { isNew } from "../schema/queries.js";
import { addedConstraints, alterCommands, columnList, existingColumns, tableName } from "./helpers.js";
import type { Finding, Rule, RuleContext } from "./rule.js";

/** NO ACTION ('a', the default) and RESTRICT ('r') make a DELETE / UPDATE of a referenced row fail. */
const blocks = (action: string | undefined) => action === undefined || action === "a" || action === "r";

/**
 * A FOREIGN KEY whose own columns old code never writes (new columns, a new
 * table) still binds the parent: once the new generation stores references,
 * the previous generation's DELETE of a referenced parent row fails, unless
 * ON DELETE cascades or nulls. An UPDATE of the referenced key is judged
 * only when the key is not the parent's primary key (old code rarely updates
 * a primary key; it does update a natural key such as an email).
 */
function parentFinding(
  ctx: RuleContext,
  con: Constraint,
  child: QualifiedName,
  columns: string[],
): Finding | undefined {
  const pq = fromRangeVar(con.pktable);
  const parent = ctx.schema.relation(pq.schema, pq.name);
  if (isNew(parent)) return undefined;
  const childSchema = ctx.schema.resolveSchema("relations", child.schema, child.name);
  const parentSchema = parent?.schema ?? ctx.schema.resolveSchema("relations", pq.schema, pq.name);
  // Self-reference of a table this statement creates.
  if (key(childSchema, child.name) === key(parentSchema, pq.name) && !parent) return undefined;
  const refCols = strings(con.pk_attrs);
  const pkey = parent && [...parent.constraints.values()].find((c) => c.kind === "primary");
  const updateBlocks =
    blocks(con.fk_upd_action) &&
    refCols.length > 0 &&
    pkey !== undefined &&
    [...refCols].sort().join("\0") !== [...pkey.columns].sort().join("\0");
  const deleteBlocks = blocks(con.fk_del_action);
  if (!deleteBlocks && !updateBlocks) return undefined;
  const writes = [deleteBlocks ? "DELETEs" : "", updateBlocks ? `UPDATEs of ${refCols.join(", ")}` : ""]
    .filter(Boolean)
    .join(" and ");
  return {
    message: `adding FOREIGN KEY on new ${columnList(child, columns)} referencing existing ${tableName(pq)}${refCols.length ? `(${refCols.join(", ")})` : ""}; once the new generation stores references, the previous generation's ${writes} of referenced ${pq.name} rows fail`,
    hint: updateBlocks
      ? `Declare it ON DELETE SET NULL (or CASCADE) and ON UPDATE CASCADE while the previous generation may delete or re-key ${pq.name} rows, or add it with \`-- compat: breaking (reason: ...)\` once no running generation does.`
      : undefined,
    span: con.location !== undefined ? ctx.at(con.location) : undefined,
  };
}

/** The FOREIGN KEYs of a column definition, with the column. */
function columnForeignKeys(def: ColumnDef | undefined): Constraint[] {
  return (def?.constraints ?? []).flatMap((n) => {
    const c = nodeOf<Constraint>(n, "Constraint");
    return c?.contype === "CONSTR_FOREIGN" ? [c] : [];
  });
}

export const foreignKeyToExistingTable: Rule = {
  id: "foreign-key-to-existing-table",
  category: "contract",
  defaultSeverity: "warning",
  summary:
    "Adding a FOREIGN KEY from new columns (or a new table) to a pre-existing table without ON DELETE SET NULL / CASCADE: the previous generation's DELETEs of referenced rows start failing.",
  hint: "Declare it ON DELETE SET NULL (or CASCADE) while the previous generation may delete parent rows, or add it with `-- compat: breaking (reason: ...)` once no running generation does.",
  kinds: ["AlterTableStmt.AT_AddConstraint", "AlterTableStmt.AT_AddColumn", "CreateStmt"],
  check(ctx) {
    const out: Finding[] = [];
    if (ctx.stmt.kind === "CreateStmt") {
      const c = ctx.stmt.body as CreateStmt;
      const child = fromRangeVar(c.relation);
      for (const elt of c.tableElts ?? []) {
        const col = nodeOf<ColumnDef>(elt, "ColumnDef");
        for (const fk of columnForeignKeys(col)) {
          const f = parentFinding(ctx, fk, child, [col?.colname ?? ""]);
          if (f) out.push(f);
        }
        const con = nodeOf<Constraint>(elt, "Constraint");
        if (con?.contype === "CONSTR_FOREIGN") {
          const f = parentFinding(ctx, con, child, strings(con.fk_attrs));
          if (f) out.push(f);
        }
      }
      return out;
    }
    for (const { cmd, target } of alterCommands(ctx)) {
      if (cmd.subtype !== "AT_AddColumn") continue;
      const def = nodeOf<ColumnDef>(cmd.def, "ColumnDef");
      for (const fk of columnForeignKeys(def)) {
        const f = parentFinding(ctx, fk, target, [def?.colname ?? ""]);
        if (f) out.push(f);
      }
    }
    for (const { con, target, relation } of addedConstraints(ctx)) {
      if (con.contype !== "CONSTR_FOREIGN") continue;
      const fkCols = strings(con.fk_attrs);
      const cols = existingColumns(relation, fkCols);
      // Over a column old code writes, foreign-key-on-existing-column reports it (parent deletes included).
      if (cols.length > 0) continue;
      const f = parentFinding(ctx, con, target, fkCols);
      if (f) out.push(f);
    }
    return out;
  },
};
