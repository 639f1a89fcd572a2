import type { AlterDomainStmt } from "libpg-query";
import { display, qualified, strings } from "../parse/ast.js";
import type { ColumnModel, RelationModel, SchemaModel } from "../schema/model.js";
import { domainOf, inModel, isNew } from "../schema/queries.js";
import { alterCommands, existingColumn, tableName } from "./helpers.js";
import type { Finding, Rule, RuleContext } from "./rule.js";
import { shape } from "./shape.js";

/** The sub-commands after which the database stops filling a column an INSERT omits. */
const what: Record<string, { label: string; shape: string } | undefined> = {
  AT_ColumnDefault: { label: "the default", shape: "drop default" },
  AT_DropIdentity: { label: "the identity", shape: "drop identity" },
  AT_DropExpression: { label: "the generation expression", shape: "drop expression" },
};

/**
 * Withdrawn when the same column has the same default again at the end of
 * the file (the enum rebuild drops the default, converts the column, and sets
 * it back): old INSERTs that omit it are filled as before. A different
 * default is change-default's business, and is reported here.
 */
function defaultBack(rel: RelationModel, col: ColumnModel): (end: SchemaModel) => boolean {
  const before = col.defaultKey;
  return (end) => inModel(end, rel) && rel.columns.get(col.name) === col && col.defaultKey === before;
}

/**
 * ALTER DOMAIN ... DROP DEFAULT: every column of the domain without a DEFAULT
 * of its own (not even DEFAULT NULL) was filled with the domain's when an
 * INSERT omitted it, and no longer is. Reported for the columns old code
 * omits and relies on: existing ones, and new ones of old tables that are
 * NOT NULL (the column's or the domain's).
 */
function domainDropDefault(ctx: RuleContext): Finding[] {
  const a = ctx.stmt.body as AlterDomainStmt;
  if (a.subtype !== "T" || a.def !== undefined) return [];
  const q = qualified(strings(a.typeName));
  const domain = ctx.schema.type(q.schema, q.name);
  const span = ctx.find(/drop\s+default/i);
  if (!domain) {
    // Created outside the linted files: which columns use it is unknown.
    return [
      {
        message: `dropping the default of domain ${display(q)}, which the linted files did not create; INSERTs from the previous generation that omit a column of it may now store NULL or fail`,
        span,
      },
    ];
  }
  if (domain.kind !== "domain" || !domain.hasDefault) return [];
  const filled: string[] = [];
  let allNotNull = true;
  for (const rel of ctx.schema.relations.values()) {
    if (rel.kind !== "table" || isNew(rel)) continue;
    for (const col of rel.columns.values()) {
      if (domainOf(ctx.schema, col.type) !== domain) continue;
      if (col.defaultKey !== undefined || col.generated || col.nullDefault) continue;
      const notNull = col.notNull || domain.notNull;
      if (isNew(col) && !notNull) continue;
      allNotNull &&= notNull;
      const schema = ctx.schema.searchPath.includes(rel.schema) ? undefined : rel.schema;
      filled.push(`${tableName({ schema, name: rel.name })}.${col.name}`);
    }
  }
  if (filled.length === 0) return [];
  return [
    {
      message: `dropping the default of domain ${display(q)}, which fills ${filled.join(", ")}; INSERTs from the previous generation that omit ${filled.length > 1 ? "them" : "it"} now ${allNotNull ? "fail the NOT NULL constraint" : "store NULL (or fail, where NOT NULL)"}`,
      span,
    },
  ];
}

export const dropDefault: Rule = {
  id: "drop-default",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "DROP DEFAULT (or DROP IDENTITY, DROP EXPRESSION) on a column the previous generation relies on being filled when it omits it.",
  hint: "Keep the default until no generation omits the column on INSERT; drop it in a later change set with `-- compat: breaking (reason: ...)`.",
  kinds: [
    "AlterTableStmt.AT_ColumnDefault",
    "AlterTableStmt.AT_DropIdentity",
    "AlterTableStmt.AT_DropExpression",
    "AlterDomainStmt",
  ],
  check(ctx) {
    if (ctx.stmt.kind === "AlterDomainStmt") return domainDropDefault(ctx);
    const out: Finding[] = [];
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      const w = what[cmd.subtype ?? ""];
      // SET DEFAULT is change-default's; a table created in this change set has no old writers.
      if (!w || cmd.name === undefined || isNew(relation)) continue;
      if (cmd.subtype === "AT_ColumnDefault" && cmd.def !== undefined) continue;
      const { existing, model } = existingColumn(relation, cmd.name);
      const filled =
        model && (cmd.subtype === "AT_ColumnDefault" ? model.defaultKey !== undefined : model.generated);
      // Known not to be filled: a no-op for old code.
      if (model && !filled) continue;
      // A column added in this change set: old code omits it, which only fails once it is NOT NULL.
      if (!existing && !model?.notNull) continue;
      const consequence =
        !model || model.notNull
          ? `INSERTs from the previous generation that omit it now ${model ? "" : "may "}fail the NOT NULL constraint`
          : cmd.subtype === "AT_DropExpression"
            ? "rows the previous generation inserts now store NULL where it reads a computed value"
            : "INSERTs from the previous generation that omit it now store NULL";
      out.push({
        message: `dropping ${w.label} of ${existing ? "" : "new column "}${tableName(target)}.${cmd.name}; ${consequence}`,
        span: ctx.find(shape(`alter [column] $ ${w.shape}`, cmd.name)),
        withdrawnIf:
          cmd.subtype === "AT_ColumnDefault" && relation && model ? defaultBack(relation, model) : undefined,
      });
    }
    return out;
  },
};
