import type { Node, TypeName } from "libpg-query";

/** A column type as written, normalised to Postgres' internal names. */
export interface SqlType {
  /** "int4", "varchar", "numeric", ...; user types keep their (schema-qualified if written) name. */
  name: string;
  /** Type modifiers: varchar(n) -> [n], numeric(p,s) -> [p,s]. */
  mods: number[];
  /** Number of array dimensions, 0 for a scalar. */
  arrayDims: number;
}

const aliases: Record<string, string> = {
  int: "int4",
  integer: "int4",
  smallint: "int2",
  bigint: "int8",
  serial: "int4",
  serial4: "int4",
  smallserial: "int2",
  serial2: "int2",
  bigserial: "int8",
  serial8: "int8",
  real: "float4",
  float: "float8",
  "double precision": "float8",
  boolean: "bool",
  decimal: "numeric",
  "character varying": "varchar",
  character: "bpchar",
  "timestamp with time zone": "timestamptz",
  "timestamp without time zone": "timestamp",
  "time with time zone": "timetz",
  "time without time zone": "time",
  "bit varying": "varbit",
};

const serials = new Set(["serial", "serial4", "smallserial", "serial2", "bigserial", "serial8"]);

// Indexed loops here, not for...of: without TurboFan (the CLI's --no-opt) each for...of step
// allocates an iterator result, and every column's type passes through here.
function strings(nodes: Node[] | undefined): string[] {
  if (!nodes) return [];
  if (nodes.length === 1) {
    const s = (nodes[0] as { String?: { sval?: string } }).String?.sval;
    return s === undefined ? [] : [s];
  }
  const out: string[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const s = (nodes[i] as { String?: { sval?: string } }).String?.sval;
    if (s !== undefined) out.push(s);
  }
  return out;
}

function modValue(n: Node): number | undefined {
  const c = (n as { A_Const?: { ival?: { ival?: number } } }).A_Const;
  if (c?.ival !== undefined) return c.ival.ival ?? 0;
  return undefined;
}

export function sqlType(t: TypeName | undefined): SqlType {
  const names = strings(t?.names);
  // The usual names, `text` or `pg_catalog.int4`, without the slice and join of the general case.
  let raw: string;
  if (names.length === 1) raw = names[0]!;
  else if (names.length === 2 && names[0] === "pg_catalog") raw = names[1]!;
  else {
    let parts = names;
    if (parts.length > 1 && parts[0] === "pg_catalog") parts = parts.slice(1);
    raw = parts.join(".");
  }
  const name = aliases[raw] ?? raw;
  const mods: number[] = [];
  const typmods = t?.typmods;
  if (typmods)
    for (let i = 0; i < typmods.length; i++) {
      const v = modValue(typmods[i]!);
      if (v !== undefined) mods.push(v);
    }
  return { name, mods, arrayDims: t?.arrayBounds?.length ?? 0 };
}

/** serial/bigserial columns carry an implicit nextval() default. */
export function isSerial(t: TypeName | undefined): boolean {
  const names = strings(t?.names);
  return names.length === 1 && serials.has(names[0]!);
}

export function formatType(t: SqlType): string {
  const display: Record<string, string> = {
    bpchar: "char",
    int2: "smallint",
    int4: "integer",
    int8: "bigint",
  };
  const base = display[t.name] ?? t.name;
  const mods = t.mods.length > 0 ? `(${t.mods.join(",")})` : "";
  return `${base}${mods}${"[]".repeat(t.arrayDims)}`;
}

export function sameType(a: SqlType, b: SqlType): boolean {
  return a.name === b.name && a.arrayDims === b.arrayDims && a.mods.join(",") === b.mods.join(",");
}

export interface TypeChangeVerdict {
  /** Old code keeps working: every value it writes is accepted unchanged, every value it reads keeps its meaning. */
  compatible: boolean;
  /** Postgres can change the type without rewriting the table (and its indexes). */
  rewrite: boolean;
  /** Why it is incompatible, in words for the diagnostic. */
  why: string;
}

const precisionTypes = new Set(["timestamp", "timestamptz", "time", "timetz", "interval"]);

/**
 * The compatibility table (docs/compat-lint/rules/incompatible-type-change.md).
 * "Compatible" is judged from the previous generation's point of view through
 * node-postgres: int8 and numeric arrive as strings, int2/int4/float8 as
 * numbers, so a change that moves a column between those groups changes what
 * old code reads even when Postgres converts every value losslessly.
 */
export function typeChange(from: SqlType, to: SqlType): TypeChangeVerdict {
  if (sameType(from, to)) return { compatible: true, rewrite: false, why: "" };
  if (from.arrayDims !== to.arrayDims) {
    return { compatible: false, rewrite: true, why: "changes between an array and a non-array type" };
  }
  const f = from.name;
  const t = to.name;
  const fm = from.mods;
  const tm = to.mods;
  // Strings: widening a length limit, or dropping it, accepts every old value and reads back the same string.
  if (f === "varchar" && t === "varchar") {
    if (tm.length === 0 || (fm.length > 0 && tm[0]! >= fm[0]!)) return ok();
    return bad(
      `narrows ${fm.length > 0 ? `varchar(${fm[0]})` : "unbounded varchar"} to varchar(${tm[0]}); longer values old code writes are rejected`,
      true,
    );
  }
  if (f === "varchar" && t === "text") return ok();
  if (f === "text" && t === "varchar") {
    if (tm.length === 0) return ok();
    return bad(`narrows text to varchar(${tm[0]}); longer values old code writes are rejected`, true);
  }
  if (f === "varbit" && t === "varbit") {
    if (tm.length === 0 || (fm.length > 0 && tm[0]! >= fm[0]!)) return ok();
    return bad("narrows a bit varying length limit", true);
  }
  if (f === "numeric" && t === "numeric") {
    if (fm.length === 0) return bad("adds a precision limit to an unconstrained numeric", true);
    if (tm.length === 0) {
      return bad("drops the scale of numeric; values read back lose their fixed number of decimals", false);
    }
    const fs = fm[1] ?? 0;
    const ts = tm[1] ?? 0;
    if (fs !== ts)
      return bad(`changes the numeric scale from ${fs} to ${ts}; old code reads different strings`, true);
    if (tm[0]! >= fm[0]!) return ok();
    return bad(`narrows numeric(${fm.join(",")}) to numeric(${tm.join(",")})`, true);
  }
  if (f === "int2" && t === "int4") return ok(true);
  if ((f === "int2" || f === "int4") && t === "int8") {
    return bad(
      "int8 values arrive in node-postgres as strings, not numbers; old code that reads this column breaks",
      true,
    );
  }
  // Every int2/int4 is exactly a float8 (53-bit mantissa), and node-postgres returns both as a
  // JavaScript number: old code writes and reads the same values. Not int8 (beyond 2^53, and
  // read as a string) nor float4 (24 bits).
  if ((f === "int2" || f === "int4") && t === "float8") return ok(true);
  if (f === "bpchar" && (t === "varchar" || t === "text")) {
    return bad(
      `changes ${formatType(from)} to ${formatType(to)}: the cast strips the blank padding char kept, so old code reads (and compares) different strings`,
      true,
    );
  }
  if (f === t && precisionTypes.has(f)) {
    // No precision means the maximum, 6 fractional digits.
    if ((tm[0] ?? 6) >= (fm[0] ?? 6)) return ok(false);
    return bad(`reduces the fractional-second precision of ${f}`, true);
  }
  if ((f === "timestamp" && t === "timestamptz") || (f === "timestamptz" && t === "timestamp")) {
    return bad(`changes ${f} to ${t}; the same value is read as a different instant by old code`, true);
  }
  return bad(`no value-preserving conversion from ${formatType(from)} to ${formatType(to)} is known`, true);

  function ok(rewrite = false): TypeChangeVerdict {
    return { compatible: true, rewrite, why: "" };
  }
  function bad(why: string, rewrite: boolean): TypeChangeVerdict {
    return { compatible: false, rewrite, why };
  }
}
