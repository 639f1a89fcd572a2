import type { Node, RangeVar, ResTarget, SelectStmt, TypeName } from "libpg-query";
import { fromRangeVar, nodeOf, strings } from "../../parse/ast.js";
import { type Origin, type RelationModel, type SchemaModel, UNKNOWN_TYPE } from "../model.js";
import { type SqlType, sqlType } from "../sql-type.js";
import { setDependsOn } from "./relations.js";

/**
 * The columns of a view, materialized view or CREATE TABLE AS: inferred from
 * its query's select list (names as Postgres chooses them, types where the
 * model knows them), and the relations it reads.
 */

/**
 * A view's (or CREATE TABLE AS's) columns from its query: names from the
 * column list, the select list's aliases, column references and function
 * names; types where a column reference resolves to one relation's column or
 * a cast says so (otherwise UNKNOWN_TYPE). columnsKnown stays false when a
 * name cannot be derived (an unnamed expression, `*` over something unknown).
 */
export function setQueryColumns(
  model: SchemaModel,
  rel: RelationModel,
  query: Node | undefined,
  aliases: string[],
  origin: Origin,
): void {
  // CREATE OR REPLACE VIEW: a column it had keeps its origin (old code may select it).
  const before = new Map(rel.columns);
  rel.columns.clear();
  const ctes = new Set<string>();
  const rangeVars: RangeVar[] = [];
  if (query !== undefined && query !== null && typeof query === "object") scanQuery(query, ctes, rangeVars);
  // Every relation the model knows that the query names; a CTE's name is not a relation.
  const reads: RelationModel[] = [];
  for (const rv of rangeVars) {
    const r = fromRelation(model, rv, ctes);
    if (r && !reads.includes(r)) reads.push(r);
  }
  setDependsOn(rel, reads);
  const derived = selectColumns(model, nodeOf<SelectStmt>(query, "SelectStmt"), ctes);
  rel.columnsKnown = derived !== undefined;
  if (!derived) return;
  derived.forEach((c, i) => {
    const name = aliases[i] ?? c.name;
    rel.columns.set(name, {
      name,
      type: c.type,
      notNull: false,
      defaultKey: undefined,
      nullDefault: false,
      generated: false,
      identity: false,
      identityAlways: false,
      origin: before.get(name)?.origin ?? origin,
    });
  });
}

/**
 * One walk over a query (for...in, no Object.values arrays: views over large
 * queries made the two walks this replaced ~5 ms of a corpus run): the names
 * its WITH clauses (at any depth) give their CTEs, and the RangeVars it names
 * (in FROM, joins, subqueries), in the order they appear. A node that is a
 * RangeVar is not walked into; such a node has no other key.
 */
function scanQuery(query: object, ctes: Set<string>, rangeVars: RangeVar[]): void {
  if (Array.isArray(query)) {
    for (let i = 0; i < query.length; i++) {
      const n: unknown = query[i];
      if (n !== null && typeof n === "object") scanQuery(n, ctes, rangeVars);
    }
    return;
  }
  const node = query as Record<string, unknown>;
  const rv = node.RangeVar;
  if (rv) {
    rangeVars.push(rv as RangeVar);
    return;
  }
  for (const k in node) {
    const v = node[k];
    if (v === null || typeof v !== "object") continue;
    if (k === "CommonTableExpr") {
      const name = (v as { ctename?: string }).ctename;
      if (name !== undefined) ctes.add(name);
    }
    scanQuery(v, ctes, rangeVars);
  }
}

/**
 * The relation a FROM item names, unless it is an unqualified name a CTE of
 * the query takes (WITH c AS (...) SELECT * FROM c reads the CTE, not a table c).
 */
function fromRelation(
  model: SchemaModel,
  rv: RangeVar,
  ctes: ReadonlySet<string>,
): RelationModel | undefined {
  const q = fromRangeVar(rv);
  if (q.schema === undefined && ctes.has(q.name)) return undefined;
  return model.relation(q.schema, q.name);
}

/** What a select list can read from a FROM item: a relation, or a CTE's or subquery's derived columns. */
interface SourceRel {
  columns: Map<string, { name: string; type: SqlType }>;
  columnsKnown: boolean;
}

interface Source {
  alias: string;
  rel: SourceRel | undefined;
}

/** A CTE's or subquery's columns as a source (unknown columns: not columnsKnown). */
function derivedSource(cols: { name: string; type: SqlType }[] | undefined, aliases: string[]): SourceRel {
  const columns = new Map<string, { name: string; type: SqlType }>();
  (cols ?? []).forEach((c, i) => {
    const name = aliases[i] ?? c.name;
    columns.set(name, { name, type: c.type });
  });
  return { columns, columnsKnown: cols !== undefined };
}

/** The FROM items a select list resolves against; undefined when a join merges columns (USING, NATURAL). */
function fromSources(
  model: SchemaModel,
  from: Node[] | undefined,
  ctes: ReadonlySet<string>,
  cteRels: ReadonlyMap<string, SourceRel> = new Map(),
): Source[] | undefined {
  const out: Source[] = [];
  const add = (n: Node | undefined): boolean => {
    const rv = nodeOf<RangeVar>(n, "RangeVar");
    if (rv) {
      const q = fromRangeVar(rv);
      const cte = q.schema === undefined ? cteRels.get(q.name) : undefined;
      out.push({ alias: rv.alias?.aliasname ?? q.name, rel: cte ?? fromRelation(model, rv, ctes) });
      return true;
    }
    const j = nodeOf<{ larg?: Node; rarg?: Node; usingClause?: Node[]; isNatural?: boolean }>(n, "JoinExpr");
    if (j) return !j.isNatural && (j.usingClause ?? []).length === 0 && add(j.larg) && add(j.rarg);
    const sub = nodeOf<{ subquery?: Node; alias?: { aliasname?: string; colnames?: Node[] } }>(
      n,
      "RangeSubselect",
    );
    const cols = sub
      ? selectColumns(model, nodeOf<SelectStmt>(sub.subquery, "SelectStmt"), ctes, cteRels)
      : undefined;
    out.push({
      alias: sub?.alias?.aliasname ?? "",
      rel: sub ? derivedSource(cols, strings(sub.alias?.colnames)) : undefined,
    });
    return true;
  };
  for (const n of from ?? []) if (!add(n)) return undefined;
  return out;
}

function selectColumns(
  model: SchemaModel,
  sel: SelectStmt | undefined,
  ctes: ReadonlySet<string>,
  outer: ReadonlyMap<string, SourceRel> = new Map(),
): { name: string; type: SqlType }[] | undefined {
  if (!sel) return undefined;
  // WITH: each CTE's columns (from its own query, or its column list), visible to the later ones
  // and to the body, so `WITH x AS (SELECT t.* FROM t) SELECT x.* FROM x` expands.
  let cteRels = outer;
  const w = sel.withClause as { ctes?: Node[]; recursive?: boolean } | undefined;
  if (w?.ctes?.length && !w.recursive) {
    const m = new Map(outer);
    for (const c of w.ctes) {
      const cte = nodeOf<{ ctename?: string; ctequery?: Node; aliascolnames?: Node[] }>(c, "CommonTableExpr");
      if (!cte?.ctename) continue;
      const cols = selectColumns(model, nodeOf<SelectStmt>(cte.ctequery, "SelectStmt"), ctes, m);
      m.set(cte.ctename, derivedSource(cols, strings(cte.aliascolnames)));
    }
    cteRels = m;
  }
  if (sel.op !== undefined && sel.op !== "SETOP_NONE") {
    // UNION / INTERSECT / EXCEPT: the left arm's names; the types are resolved across arms.
    const left = selectColumns(model, sel.larg, ctes, cteRels);
    return left?.map((c) => ({ name: c.name, type: UNKNOWN_TYPE }));
  }
  if (sel.targetList === undefined) return undefined;
  const sources = fromSources(model, sel.fromClause, ctes, cteRels);
  if (!sources) return undefined;
  const known = (s: Source) => s.rel?.columnsKnown === true;
  const lookup = (qualifier: string | undefined, col: string): SqlType => {
    const cands = sources.filter((s) => qualifier === undefined || s.alias === qualifier);
    if (cands.some((s) => !known(s))) return UNKNOWN_TYPE;
    const hits = cands.flatMap((s) => s.rel?.columns.get(col) ?? []);
    return hits.length === 1 ? hits[0]!.type : UNKNOWN_TYPE;
  };
  const out: { name: string; type: SqlType }[] = [];
  for (const t of sel.targetList) {
    const rt = nodeOf<ResTarget>(t, "ResTarget");
    if (!rt) return undefined;
    const ref = nodeOf<{ fields?: Node[] }>(rt.val, "ColumnRef");
    const fields = ref?.fields ?? [];
    if (ref && nodeOf(fields[fields.length - 1], "A_Star")) {
      const qual = strings(fields.slice(0, -1));
      const expand = sources.filter((s) => qual.length === 0 || s.alias === qual[qual.length - 1]);
      if (expand.length === 0 || !expand.every(known)) return undefined;
      for (const s of expand)
        for (const c of s.rel!.columns.values()) out.push({ name: c.name, type: c.type });
      continue;
    }
    const cast = nodeOf<{ arg?: Node; typeName?: TypeName }>(rt.val, "TypeCast");
    const name = rt.name ?? figureColname(rt.val);
    let type = UNKNOWN_TYPE;
    if (cast) type = sqlType(cast.typeName);
    else if (ref) {
      const parts = strings(fields);
      type = lookup(parts.length > 1 ? parts[parts.length - 2] : undefined, parts[parts.length - 1] ?? "");
    }
    out.push({ name, type });
  }
  return out;
}

/**
 * The name Postgres gives an unaliased select-list entry (FigureColname in parse_target.c): a
 * column reference's last field, a function's name, a cast's inner name or else its type's, the
 * keyword of CASE / ARRAY / ROW / COALESCE / GREATEST / LEAST / NULLIF / EXISTS, a scalar
 * subquery's own column name, and "?column?" for anything else (a constant, an operator).
 */
function figureColname(n: Node | undefined): string {
  return figure(n)?.name ?? "?column?";
}

/** FigureColnameInternal: a name and its strength (2: a real name, 1: a type or keyword), or undefined. */
function figure(n: Node | undefined): { name: string; strength: 1 | 2 } | undefined {
  if (!n || typeof n !== "object") return undefined;
  const [kind, body] = Object.entries(n)[0] ?? [];
  const b = body as Record<string, unknown> | undefined;
  switch (kind) {
    case "ColumnRef": {
      const f = strings(b?.fields as Node[] | undefined);
      const last = (b?.fields as Node[] | undefined)?.at(-1);
      return last && nodeOf(last, "A_Star")
        ? undefined
        : f.length
          ? { name: f[f.length - 1]!, strength: 2 }
          : undefined;
    }
    case "A_Indirection": {
      const ind = (b?.indirection as Node[] | undefined) ?? [];
      for (let i = ind.length - 1; i >= 0; i--) {
        const s = strings([ind[i]!]);
        if (s.length) return { name: s[0]!, strength: 2 };
        if (nodeOf(ind[i], "A_Star")) return undefined;
      }
      return figure(b?.arg as Node | undefined);
    }
    case "FuncCall": {
      const f = strings(b?.funcname as Node[] | undefined);
      return f.length ? { name: f[f.length - 1]!, strength: 2 } : undefined;
    }
    case "A_Expr":
      return b?.kind === "AEXPR_NULLIF" ? { name: "nullif", strength: 2 } : undefined;
    case "TypeCast": {
      const inner = figure(b?.arg as Node | undefined);
      if (inner && inner.strength > 1) return inner;
      const tn = strings((b?.typeName as TypeName | undefined)?.names);
      return tn.length ? { name: tn[tn.length - 1]!, strength: 1 } : inner;
    }
    case "CollateClause":
      return figure(b?.arg as Node | undefined);
    case "GroupingFunc":
      return { name: "grouping", strength: 2 };
    case "MergeSupportFunc":
      return { name: "merge_action", strength: 2 };
    case "SubLink": {
      const t = b?.subLinkType;
      if (t === "EXISTS_SUBLINK") return { name: "exists", strength: 2 };
      if (t === "ARRAY_SUBLINK") return { name: "array", strength: 2 };
      if (t === "EXPR_SUBLINK") {
        const sub = nodeOf<SelectStmt>(b?.subselect as Node | undefined, "SelectStmt");
        const rt = nodeOf<ResTarget>(sub?.targetList?.[0], "ResTarget");
        if (rt?.name) return { name: rt.name, strength: 2 };
        const inner = figure(rt?.val);
        return inner ?? undefined;
      }
      return undefined;
    }
    case "CaseExpr": {
      // The ELSE result's name when it has a real one (CASE ... ELSE a END is named a).
      const d = figure(b?.defresult as Node | undefined);
      return d && d.strength > 1 ? d : { name: "case", strength: 1 };
    }
    case "A_ArrayExpr":
      return { name: "array", strength: 2 };
    case "RowExpr":
      return { name: "row", strength: 2 };
    case "CoalesceExpr":
      return { name: "coalesce", strength: 2 };
    case "MinMaxExpr":
      return { name: b?.op === "IS_LEAST" ? "least" : "greatest", strength: 2 };
    case "SQLValueFunction": {
      const op = String(b?.op ?? "");
      const names: Record<string, string> = {
        SVFOP_CURRENT_DATE: "current_date",
        SVFOP_CURRENT_TIME: "current_time",
        SVFOP_CURRENT_TIME_N: "current_time",
        SVFOP_CURRENT_TIMESTAMP: "current_timestamp",
        SVFOP_CURRENT_TIMESTAMP_N: "current_timestamp",
        SVFOP_LOCALTIME: "localtime",
        SVFOP_LOCALTIME_N: "localtime",
        SVFOP_LOCALTIMESTAMP: "localtimestamp",
        SVFOP_LOCALTIMESTAMP_N: "localtimestamp",
        SVFOP_CURRENT_ROLE: "current_role",
        SVFOP_CURRENT_USER: "current_user",
        SVFOP_USER: "user",
        SVFOP_SESSION_USER: "session_user",
        SVFOP_CURRENT_CATALOG: "current_catalog",
        SVFOP_CURRENT_SCHEMA: "current_schema",
      };
      return names[op] ? { name: names[op]!, strength: 2 } : undefined;
    }
    default:
      return undefined;
  }
}
