import type { AlterDomainStmt, ColumnDef, Constraint, Node } from "libpg-query";
import { display, exprKey, nodeOf, type QualifiedName, qualified, strings } from "../parse/ast.js";
import type { RelationModel, SchemaModel } from "../schema/model.js";
import { constraintColumns, filledOnInsert, isNew } from "../schema/queries.js";
import { addedConstraints, alterCommands, columnDefFilled, columnList, existingColumns } from "./helpers.js";
import type { Finding, Rule, RuleContext } from "./rule.js";

/**
 * What an expression evaluates to when some columns are NULL: a definite
 * truth value, NULL, a known constant, some non-NULL value, or anything.
 * Three-valued logic as Postgres does it, for the shapes a CHECK over a
 * nullable column takes (IS [NOT] NULL, AND/OR/NOT, comparisons, IN,
 * IS [NOT] DISTINCT FROM, COALESCE, NULLIF, CASE, casts, num_nulls /
 * num_nonnulls, a few strict built-in functions); anything else is "any", so
 * the caller only acts on a definite answer.
 */
type Value = "true" | "false" | "null" | "value" | "any" | { c: number | string };

/** A non-NULL value: a boolean, a constant, or some value. */
const definite = (v: Value) => v === "true" || v === "false" || v === "value" || typeof v === "object";

/**
 * Built-in functions that are STRICT (NULL in, NULL out) and that pg_catalog,
 * searched first, supplies under these names.
 */
const strictFunctions = new Set([
  "abs",
  "array_length",
  "btrim",
  "cardinality",
  "ceil",
  "char_length",
  "character_length",
  "date_part",
  "date_trunc",
  "extract",
  "floor",
  "left",
  "length",
  "lower",
  "ltrim",
  "md5",
  "octet_length",
  "replace",
  "right",
  "round",
  "rtrim",
  "split_part",
  "strpos",
  "substr",
  "substring",
  "trunc",
  "upper",
]);

/** A numeric literal as a number, when the double holds it exactly enough to compare (15 significant digits). */
function numberOf(text: string): number | undefined {
  if (!/^-?\d+(?:\.\d+)?$/.test(text) || text.replace(/[-.]/g, "").replace(/^0+/, "").length > 15)
    return undefined;
  return Number(text);
}

function compare(op: string, l: number | string, r: number | string): Value {
  if (typeof l !== typeof r) return "any";
  // A quoted literal takes the other side's type: the same text is the same value, but different
  // texts may be equal ('A' and 'a' as citext, '1' and '01' as int) and ordering depends on the collation.
  if (typeof l === "string" && (l !== r || (op !== "=" && op !== "<>" && op !== "!="))) return "any";
  const result: Record<string, boolean> = {
    "=": l === r,
    "<>": l !== r,
    "!=": l !== r,
    "<": l < r,
    "<=": l <= r,
    ">": l > r,
    ">=": l >= r,
  };
  const v = result[op];
  return v === undefined ? "any" : v ? "true" : "false";
}

/** Two results are the same definite outcome. */
const same = (a: Value, b: Value) =>
  a === b || (typeof a === "object" && typeof b === "object" && a.c === b.c);

export function evaluateWithNulls(node: unknown, nulls: ReadonlySet<string>): Value {
  if (!node || typeof node !== "object") return "any";
  const n = node as Record<string, Record<string, unknown> | undefined>;
  const at = (x: unknown) => evaluateWithNulls(x, nulls);
  if (n.ColumnRef) {
    const f = strings(n.ColumnRef.fields as never);
    const last = f[f.length - 1];
    return last !== undefined && nulls.has(last) ? "null" : "any";
  }
  if (n.A_Const) {
    const c = n.A_Const as {
      isnull?: boolean;
      boolval?: { boolval?: boolean };
      ival?: { ival?: number };
      fval?: { fval?: string };
      sval?: { sval?: string };
    };
    if (c.isnull) return "null";
    if (c.boolval) return c.boolval.boolval ? "true" : "false";
    if (c.ival) return { c: c.ival.ival ?? 0 };
    const num = c.fval?.fval !== undefined ? numberOf(c.fval.fval) : undefined;
    if (num !== undefined) return { c: num };
    if (c.sval) return { c: c.sval.sval ?? "" };
    return "value";
  }
  if (n.TypeCast) {
    // A cast can change what a constant compares as ('1'::int); keep only NULL-ness.
    const v = at(n.TypeCast.arg);
    return v === "null" ? "null" : v === "any" ? "any" : "value";
  }
  if (n.NullTest) {
    const v = at(n.NullTest.arg);
    if (v === "any") return "any";
    const isNull = n.NullTest.nulltesttype === "IS_NULL";
    return (v === "null") === isNull ? "true" : "false";
  }
  if (n.BooleanTest) {
    const v = at(n.BooleanTest.arg);
    if (v !== "true" && v !== "false" && v !== "null") return "any";
    const is: Record<string, boolean> = {
      IS_TRUE: v === "true",
      IS_NOT_TRUE: v !== "true",
      IS_FALSE: v === "false",
      IS_NOT_FALSE: v !== "false",
      IS_UNKNOWN: v === "null",
      IS_NOT_UNKNOWN: v !== "null",
    };
    const r = is[String(n.BooleanTest.booltesttype)];
    return r === undefined ? "any" : r ? "true" : "false";
  }
  if (n.BoolExpr) {
    const args = ((n.BoolExpr.args as unknown[]) ?? []).map(at);
    const op = n.BoolExpr.boolop;
    if (op === "NOT_EXPR") {
      const v = args[0];
      return v === "true" ? "false" : v === "false" ? "true" : v === "null" ? "null" : "any";
    }
    const [absorbing, neutral] = op === "AND_EXPR" ? ["false", "true"] : ["true", "false"];
    if (args.includes(absorbing as Value)) return absorbing as Value;
    if (args.every((v) => v === neutral)) return neutral as Value;
    if (args.every((v) => v === neutral || v === "null")) return "null";
    return "any";
  }
  if (n.A_Expr) {
    const kind = n.A_Expr.kind;
    const l = at(n.A_Expr.lexpr);
    const r = nodeOf(n.A_Expr.rexpr as never, "List") ? "any" : at(n.A_Expr.rexpr);
    if (kind === "AEXPR_DISTINCT" || kind === "AEXPR_NOT_DISTINCT") {
      const distinct = kind === "AEXPR_DISTINCT";
      if (l === "null" && r === "null") return distinct ? "false" : "true";
      if ((l === "null" && definite(r)) || (r === "null" && definite(l))) return distinct ? "true" : "false";
      if (typeof l === "object" && typeof r === "object") {
        const eq = compare("=", l.c, r.c);
        return eq === "any" ? "any" : (eq === "true") === distinct ? "false" : "true";
      }
      return "any";
    }
    if (kind === "AEXPR_NULLIF") {
      // NULLIF(a, b): a unless a = b; NULL when a is; a when b is NULL (a = NULL is never true).
      if (l === "null") return "null";
      if (r === "null") return l;
      if (typeof l === "object" && typeof r === "object") {
        const eq = compare("=", l.c, r.c);
        return eq === "true" ? "null" : eq === "false" ? l : "any";
      }
      return "any";
    }
    const op = strings(n.A_Expr.name as never);
    // x op ANY/ALL (array): a NULL x gives NULL only over a non-empty array (NULL = ANY('{}') is
    // false, NULL = ALL('{}') true); an array written out with elements is one.
    if (kind === "AEXPR_OP_ANY" || kind === "AEXPR_OP_ALL") {
      if (r === "null") return "null";
      const elements = nodeOf<{ elements?: unknown[] }>(n.A_Expr.rexpr as never, "A_ArrayExpr")?.elements;
      return l === "null" && (elements ?? []).length > 0 ? "null" : "any";
    }
    // || is array_append / array_prepend / array_cat for arrays, which are not strict
    // (NULL::int[] || 1 is {1}); the operand types are not known here.
    if (kind === "AEXPR_OP" && op.length === 1 && op[0] === "||") return "any";
    // Comparisons, IN, LIKE, BETWEEN and the other built-in operators: NULL in, NULL out.
    if (l === "null" || r === "null") return "null";
    if (kind === "AEXPR_OP" && op.length === 1 && typeof l === "object" && typeof r === "object")
      return compare(op[0]!, l.c, r.c);
    return "any";
  }
  if (n.CoalesceExpr) {
    for (const a of (n.CoalesceExpr.args as unknown[]) ?? []) {
      const v = at(a);
      if (v !== "null") return v;
    }
    return "null";
  }
  if (n.CaseExpr) {
    // The results every branch that can still be taken gives; one definite result if they agree.
    const c = n.CaseExpr as { arg?: unknown; args?: unknown[]; defresult?: unknown };
    const subject = c.arg === undefined ? undefined : at(c.arg);
    const possible: Value[] = [];
    let decided = false;
    for (const w of c.args ?? []) {
      const when = (w as { CaseWhen?: { expr?: unknown; result?: unknown } }).CaseWhen;
      if (!when) return "any";
      // CASE x WHEN v: x = v, which is NULL (not taken) when x is NULL.
      const cond =
        subject === undefined
          ? at(when.expr)
          : subject === "null"
            ? "null"
            : typeof subject === "object"
              ? (() => {
                  const v = at(when.expr);
                  return v === "null" ? "null" : typeof v === "object" ? compare("=", subject.c, v.c) : "any";
                })()
              : "any";
      if (cond === "false" || cond === "null") continue;
      possible.push(at(when.result));
      if (cond === "true") {
        decided = true;
        break;
      }
    }
    if (!decided) possible.push(c.defresult === undefined ? "null" : at(c.defresult));
    const first = possible[0]!;
    return first !== "any" && first !== "value" && possible.every((v) => same(v, first)) ? first : "any";
  }
  if (n.FuncCall) {
    const f = n.FuncCall as {
      funcname?: never;
      args?: unknown[];
      agg_star?: boolean;
      over?: unknown;
      func_variadic?: boolean;
    };
    const name = strings(f.funcname);
    const schemaOk = name.length === 1 || (name.length === 2 && name[0] === "pg_catalog");
    const fn = name[name.length - 1] ?? "";
    // VARIADIC passes one array for all the arguments (num_nulls(VARIADIC NULL::int[]) is NULL).
    if (!schemaOk || f.agg_star || f.over !== undefined || f.func_variadic) return "any";
    const args = (f.args ?? []).map(at);
    if (fn === "num_nulls" || fn === "num_nonnulls") {
      // Not strict: counts its arguments' NULLs, so it needs every argument's NULL-ness.
      if (!args.every((v) => v === "null" || definite(v))) return "any";
      const nullCount = args.filter((v) => v === "null").length;
      return { c: fn === "num_nulls" ? nullCount : args.length - nullCount };
    }
    if (strictFunctions.has(fn) && args.includes("null")) return "null";
    return "any";
  }
  return "any";
}

/** Columns added in this change set that old INSERTs, which omit them, leave NULL. */
function leftNull(schema: SchemaModel, relation: RelationModel, columns: readonly string[]): string[] {
  return columns.filter((c) => {
    const m = relation.columns.get(c);
    return m !== undefined && isNew(m) && !m.notNull && !filledOnInsert(schema, m);
  });
}

function rejectsNull(ctx: RuleContext, con: Constraint, target: QualifiedName, cols: string[]): Finding {
  return {
    message:
      `adding CHECK ${con.conname ?? ""} over ${columnList(target, cols)}, added in this change set; INSERTs from the previous generation leave ${cols.length > 1 ? "them" : "it"} NULL, which the CHECK rejects`.replace(
        "CHECK  ",
        "CHECK ",
      ),
    hint: "Old code does not know a column added in this change set, so it leaves it NULL. Give the column a DEFAULT that satisfies the CHECK, or add the CHECK in a later change set once every running generation writes the column.",
    span: con.location !== undefined ? ctx.at(con.location) : undefined,
  };
}

/** ALTER DOMAIN ... ADD CONSTRAINT ... CHECK: every column of the domain gets it (NOT VALID exempts only stored values). */
function domainCheck(ctx: RuleContext): Finding[] {
  const a = ctx.stmt.body as AlterDomainStmt;
  const con = nodeOf<Constraint>(a.def, "Constraint");
  if (a.subtype !== "C" || con?.contype !== "CONSTR_CHECK") return [];
  const q = qualified(strings(a.typeName));
  if (isNew(ctx.schema.type(q.schema, q.name))) return [];
  return [
    {
      message:
        `adding CHECK ${con.conname ?? ""} to domain ${display(q)}; writes from the previous generation to columns of this domain that violate it start failing${con.skip_validation ? " (NOT VALID does not exempt new writes)" : ""}`.replace(
          "CHECK  ",
          "CHECK ",
        ),
      span: con.location !== undefined ? ctx.at(con.location) : undefined,
    },
  ];
}

/**
 * Whether a validated CHECK old writes already meet implies `expr`: one on the table now, or
 * one this very file dropped (a CHECK replaced by a looser one: `x > 0` by `x >= 0`, an IN list
 * by a longer one). Stored rows and old writes satisfied it, so they satisfy `expr`. One an
 * earlier file dropped does not count: old code may have written other values since.
 */
function impliedByOldCheck(relation: RelationModel, expr: Node, file: RuleContext["origin"]): boolean {
  const dropped = (relation.droppedConstraints ?? []).filter((d) => d.by === file).map((d) => d.constraint);
  // A CHECK of this change set's making does not count: old writes never met it (unless dropped here).
  const olds = [...[...relation.constraints.values()].filter((c) => !isNew(c)), ...dropped];
  const wanted = conjuncts(expr);
  for (const c of olds) {
    if (!c.check) continue;
    if (exprKey(c.check) === exprKey(expr)) return true;
    const have = conjuncts(c.check);
    if (wanted.every((w) => exprKey(w) !== undefined && have.some((h) => implies(h, w)))) return true;
  }
  return false;
}

function conjuncts(n: Node): Node[] {
  const b = nodeOf<{ boolop?: string; args?: Node[] }>(n, "BoolExpr");
  return b?.boolop === "AND_EXPR" ? (b.args ?? []).flatMap(conjuncts) : [n];
}

/** col IN (consts), col = const, or col <op> number; undefined for anything else. */
interface Atom {
  col: string;
  op: string;
  values: (number | string)[];
}

function atomOf(n: Node): Atom | undefined {
  const e = nodeOf<{ kind?: string; name?: Node[]; lexpr?: Node; rexpr?: Node }>(n, "A_Expr");
  if (!e) return undefined;
  const col = strings(nodeOf<{ fields?: Node[] }>(e.lexpr, "ColumnRef")?.fields);
  if (col.length === 0) return undefined;
  const op = strings(e.name)[0] ?? "";
  const constOf = (x: Node | undefined): number | string | undefined => {
    const c = nodeOf<{ ival?: { ival?: number }; fval?: { fval?: string }; sval?: { sval?: string } }>(
      nodeOf<{ arg?: Node }>(x, "TypeCast")?.arg ?? x,
      "A_Const",
    );
    if (!c) return undefined;
    if (c.ival) return c.ival.ival ?? 0;
    if (c.fval?.fval !== undefined) return numberOf(c.fval.fval);
    if (c.sval) return c.sval.sval ?? "";
    return undefined;
  };
  if (e.kind === "AEXPR_IN" && op === "=") {
    const items = nodeOf<{ items?: Node[] }>(e.rexpr, "List")?.items ?? [];
    const values = items.map(constOf);
    return values.every((v) => v !== undefined)
      ? { col: col[col.length - 1]!, op: "in", values: values as (number | string)[] }
      : undefined;
  }
  if (e.kind !== "AEXPR_OP") return undefined;
  const v = constOf(e.rexpr);
  if (v === undefined) return undefined;
  if (op === "=") return { col: col[col.length - 1]!, op: "in", values: [v] };
  return ["<", "<=", ">", ">="].includes(op) && typeof v === "number"
    ? { col: col[col.length - 1]!, op, values: [v] }
    : undefined;
}

/** Whether every non-NULL value satisfying `a` satisfies `b` (both NULL-tolerant in a CHECK). */
function implies(a: Node, b: Node): boolean {
  const x = atomOf(a);
  const y = atomOf(b);
  if (!x || !y || x.col !== y.col) return false;
  const holds = (v: number | string, atom: Atom): boolean => {
    if (atom.op === "in") return atom.values.includes(v);
    if (typeof v !== "number") return false;
    const c = atom.values[0] as number;
    return atom.op === "<" ? v < c : atom.op === "<=" ? v <= c : atom.op === ">" ? v > c : v >= c;
  };
  if (x.op === "in") return x.values.every((v) => holds(v, y));
  if (y.op === "in") return false;
  const [a0, b0] = [x.values[0] as number, y.values[0] as number];
  const lower = (op: string) => op === ">" || op === ">=";
  if (lower(x.op) !== lower(y.op)) return false;
  if (lower(x.op)) return a0 > b0 || (a0 === b0 && (y.op === ">=" || x.op === ">"));
  return a0 < b0 || (a0 === b0 && (y.op === "<=" || x.op === "<"));
}

export const checkOnExistingColumn: Rule = {
  id: "check-on-existing-column",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "Adding a CHECK constraint over columns the previous generation writes, or one that rejects the NULL it leaves in a new column.",
  hint: "NOT VALID only skips checking old rows; new writes from old code are still checked. Make every generation write conforming values first, then add the CHECK with `-- compat: breaking (reason: ...)`.",
  kinds: ["AlterTableStmt.AT_AddConstraint", "AlterTableStmt.AT_AddColumn", "AlterDomainStmt"],
  check(ctx) {
    if (ctx.stmt.kind === "AlterDomainStmt") return domainCheck(ctx);
    const out: Finding[] = [];
    for (const { con, target, relation } of addedConstraints(ctx)) {
      if (con.contype !== "CONSTR_CHECK") continue;
      const all = constraintColumns(con, undefined);
      const cols = existingColumns(relation, all);
      if (cols.length === 0) {
        // Only columns added in this change set: old code omits them, so the CHECK sees NULL there.
        if (!relation || isNew(relation)) continue;
        const nulls = leftNull(ctx.schema, relation, all);
        if (nulls.length > 0 && evaluateWithNulls(con.raw_expr, new Set(nulls)) === "false")
          out.push(rejectsNull(ctx, con, target, nulls));
        continue;
      }
      if (relation && con.raw_expr && impliedByOldCheck(relation, con.raw_expr, ctx.origin)) continue;
      out.push({
        message:
          `adding CHECK ${con.conname ?? ""} over existing ${columnList(target, cols)}; writes from the previous generation that violate it start failing${con.skip_validation ? " (NOT VALID does not exempt new writes)" : ""}`.replace(
            "CHECK  ",
            "CHECK ",
          ),
        span: con.location !== undefined ? ctx.at(con.location) : undefined,
      });
    }
    // ADD COLUMN c ... CHECK (...): the same question for a column constraint on a pre-existing table.
    for (const { cmd, target, relation } of alterCommands(ctx)) {
      if (cmd.subtype !== "AT_AddColumn" || isNew(relation)) continue;
      const def = nodeOf<ColumnDef>(cmd.def, "ColumnDef");
      if (!def?.colname) continue;
      const cons = (def.constraints ?? []).flatMap((c) => nodeOf<Constraint>(c, "Constraint") ?? []);
      const types = cons.map((c) => c.contype);
      // NOT NULL without a default is add-required-column's.
      if (
        columnDefFilled(ctx.schema, def) ||
        def.is_not_null ||
        types.includes("CONSTR_NOTNULL") ||
        types.includes("CONSTR_PRIMARY")
      )
        continue;
      for (const con of cons) {
        if (con.contype !== "CONSTR_CHECK") continue;
        if (evaluateWithNulls(con.raw_expr, new Set([def.colname])) === "false")
          out.push(rejectsNull(ctx, con, target, [def.colname]));
      }
    }
    return out;
  },
};
