import type { Node, RangeVar } from "libpg-query";

/** Small, total helpers over the libpg_query JSON AST. */

export function nodeOf<T>(node: Node | undefined, kind: string): T | undefined {
  if (!node) return undefined;
  return (node as unknown as Record<string, T>)[kind];
}

export function str(node: Node | undefined): string | undefined {
  return nodeOf<{ sval?: string }>(node, "String")?.sval;
}

export function strings(nodes: Node[] | undefined): string[] {
  if (!nodes) return [];
  // Most names have one part: an array of exactly that size, not an empty one grown by push.
  if (nodes.length === 1) {
    const s = str(nodes[0]);
    return s === undefined ? [] : [s];
  }
  const out: string[] = [];
  // Indexed, not for...of: the CLI runs without TurboFan (--no-opt), where each for...of step
  // allocates an iterator result; this is among the hottest loops of a run.
  for (let i = 0; i < nodes.length; i++) {
    const s = str(nodes[i]);
    if (s !== undefined) out.push(s);
  }
  return out;
}

export interface QualifiedName {
  schema: string | undefined;
  name: string;
}

/** ["s", "t"] -> s.t; a leading catalog name is dropped. */
export function qualified(parts: string[]): QualifiedName {
  const name = parts[parts.length - 1] ?? "";
  const schema = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  return { schema, name };
}

export function fromRangeVar(rv: RangeVar | undefined): QualifiedName {
  return { schema: rv?.schemaname || undefined, name: rv?.relname ?? "" };
}

/** A DropStmt / RenameStmt object: a List of names, a String, or a TypeName. */
export function objectName(node: Node | undefined): QualifiedName {
  const list = nodeOf<{ items?: Node[] }>(node, "List");
  if (list) return qualified(strings(list.items));
  const s = str(node);
  if (s !== undefined) return { schema: undefined, name: s };
  const tn = nodeOf<{ names?: Node[] }>(node, "TypeName");
  if (tn) return qualified(strings(tn.names));
  const owa = nodeOf<{ objname?: Node[] }>(node, "ObjectWithArgs");
  if (owa) return qualified(strings(owa.objname));
  return { schema: undefined, name: "" };
}

export function display(q: QualifiedName): string {
  return q.schema ? `${q.schema}.${q.name}` : q.name;
}

/** A location-free fingerprint of an expression, to tell whether two defaults are the same. */
export function exprKey(node: Node | undefined): string | undefined {
  if (node === undefined) return undefined;
  // Same key as JSON.stringify with a replacer that drops every "location"
  // property, without calling a JS function per property. The pattern cannot
  // match inside a string value: JSON escapes the quotes there.
  return JSON.stringify(node).replace(locationProperty, "");
}

const locationProperty = /,"location":-?\d+|"location":-?\d+,?/g;

/** Every column name an expression references (the last field of each ColumnRef). */
export function columnRefs(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const n of node) columnRefs(n, out);
  } else if (node && typeof node === "object") {
    const ref = (node as { ColumnRef?: { fields?: Node[] } }).ColumnRef;
    if (ref) {
      const parts = strings(ref.fields);
      const last = parts[parts.length - 1];
      if (last !== undefined) out.add(last);
    } else {
      for (const v of Object.values(node)) columnRefs(v, out);
    }
  }
  return out;
}

const volatileFunctions = new Set([
  "random",
  "gen_random_uuid",
  "uuid_generate_v1",
  "uuid_generate_v4",
  "clock_timestamp",
  "timeofday",
  "nextval",
  "txid_current",
]);

/** Whether an expression calls a volatile function (forces a rewrite when used as an added column's default). */
export function callsVolatile(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(callsVolatile);
  if (node && typeof node === "object") {
    const call = (node as { FuncCall?: { funcname?: Node[] } }).FuncCall;
    if (call) {
      const n = strings(call.funcname);
      if (volatileFunctions.has(n[n.length - 1] ?? "")) return true;
    }
    return Object.values(node).some(callsVolatile);
  }
  return false;
}

/**
 * A DO statement's body (its `AS` string, undefined if it has none) and
 * language, lower-cased ("plpgsql" when the statement names none, as in Postgres).
 */
export function doBlock(body: unknown): { code: string | undefined; language: string } {
  let code: string | undefined;
  let language = "plpgsql";
  for (const a of (body as { args?: Node[] }).args ?? []) {
    const d = (a as { DefElem?: { defname?: string; arg?: Node } }).DefElem;
    if (d?.defname === "as") code = str(d.arg);
    else if (d?.defname === "language") language = str(d.arg)?.toLowerCase() ?? language;
  }
  return { code, language };
}
