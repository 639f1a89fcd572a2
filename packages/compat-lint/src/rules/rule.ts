import type { AlterTableCmd, AlterTableStmt } from "libpg-query";
import { fromRangeVar, nodeOf, type QualifiedName } from "../ast.js";
import type { Statement } from "../parser.js";
import { type ColumnModel, isNew, type RelationModel, type SchemaModel } from "../schema/model.js";

/**
 * What a rule is. A rule is a pure function from one statement and the schema
 * as it stood before that statement to findings; it never mutates the model
 * and never renders text. The linter attaches severity, file and position.
 */
export type Category = "contract" | "lock" | "unverifiable" | "directive";
export type Severity = "error" | "warning";

export interface RuleMeta {
  /** Stable kebab-case id, used in config, ignore comments, output and the docs file name. */
  id: string;
  /**
   * contract: breaks the previous generation's code (error by default);
   * lock: safe for old code but takes a heavy lock or rewrites (warning by default);
   * unverifiable: the linter cannot see what the statement does;
   * directive: a malformed compat marker or ignore comment.
   */
  category: Category;
  defaultSeverity: Severity;
  /** One line: what the rule rejects. */
  summary: string;
  /** The safe recipe, in one or two sentences; the docs page has the long form. */
  hint: string;
}

export interface Span {
  /** Absolute UTF-8 byte offsets. */
  start: number;
  end: number;
}

export interface Finding {
  message: string;
  /** Overrides the rule's hint when the recipe depends on the statement. */
  hint?: string;
  span?: Span;
}

export interface RuleContext {
  stmt: Statement;
  /** The schema before this statement ran. Rules must not mutate it. */
  schema: SchemaModel;
  /** Target Postgres major version (config `pgVersion`). */
  pgVersion: number;
  /** Span of a parser location (byte offset relative to the parsed section). */
  at(location: number | undefined): Span;
  /** Span of the first match of a pattern in the statement's text; the statement start if none. */
  find(pattern: RegExp): Span;
}

export interface Rule extends RuleMeta {
  /**
   * The statements the rule can report on; the linter does not call check()
   * for any other. Each entry is a statement kind ("DropStmt") or, since
   * ALTER TABLE is judged one command at a time, "AlterTableStmt.<subtype>"
   * ("AlterTableStmt.AT_DropColumn"); a bare "AlterTableStmt" means every
   * ALTER TABLE. Omitted: every statement. check() must still return [] for
   * statements it does not handle, so it stays correct when called directly
   * (test/dispatch.test.ts checks these lists against the corpus).
   */
  kinds?: readonly string[];
  check(ctx: RuleContext): Finding[];
}

/** One ALTER TABLE sub-command with the relation it targets, as the schema stood before. */
export interface AlterCommand {
  cmd: AlterTableCmd;
  target: QualifiedName;
  /** undefined when the model never saw the relation: treat it as pre-existing. */
  relation: RelationModel | undefined;
}

// A dozen rules look at the same ALTER TABLE commands; they are collected once per
// statement context. Rules only read the result.
const alterCache = new WeakMap<RuleContext, readonly AlterCommand[]>();

export function alterCommands(ctx: RuleContext): readonly AlterCommand[] {
  let cached = alterCache.get(ctx);
  if (cached === undefined) {
    cached = collectAlterCommands(ctx);
    alterCache.set(ctx, cached);
  }
  return cached;
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

/** A column old code may use: it exists before this change set (or is unknown to the model). */
export function existingColumn(
  relation: RelationModel | undefined,
  column: string,
): { existing: boolean; model: ColumnModel | undefined } {
  if (relation && isNew(relation)) return { existing: false, model: relation.columns.get(column) };
  const model = relation?.columns.get(column);
  return { existing: !isNew(model), model };
}

export function tableName(q: QualifiedName): string {
  return q.schema ? `${q.schema}.${q.name}` : q.name;
}

const patterns = new Map<string, RegExp>();

/**
 * A case-insensitive RegExp for ctx.find(), compiled once per source text: the
 * same few patterns (with the same column names) recur across a migration
 * history. Safe to share because they carry no g/y flag, so exec() keeps no state.
 */
export function pattern(source: string): RegExp {
  let re = patterns.get(source);
  if (re === undefined) {
    if (patterns.size >= 1024) patterns.clear();
    re = new RegExp(source, "i");
    patterns.set(source, re);
  }
  return re;
}

/** A regex that matches an identifier as written, quoted or not. */
export function ident(name: string): string {
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return `(?:"${esc.replace(/"/g, '""')}"|${esc})`;
}
