/**
 * Array parameters of the chunk's statements sent as PostgreSQL array
 * literal text, built here in one pass instead of by pg, which escapes every
 * element through `prepareValue`/`escapeElement`/`arrayString` (a regular
 * expression replace per element: ~1 µs per event in the burn-down's worker
 * profile, tools/bench/profile/PROFILE.md section 7). A text parameter
 * reaches the statement's `$n::text[]` / `$n::bigint[]` cast exactly as pg's
 * own encoding of the same array would.
 */

/**
 * `{"a","b\"c"}`: each element double-quoted, `"` and `\` escaped with `\`
 * (array_in's rules; inside quotes nothing else is special: commas, braces,
 * spaces and the word NULL are plain text). No element may be null.
 */
export function textArrayLiteral(values: readonly string[]): string {
  let s = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const quoted = v.indexOf('"') < 0 && v.indexOf("\\") < 0 ? v : v.replace(/[\\"]/g, "\\$&");
    s += i === 0 ? `"${quoted}"` : `,"${quoted}"`;
  }
  return `${s}}`;
}

/**
 * `{1,2,3}` for ids that are the decimal text of bigints (the claim returns
 * `id::text`), so no element needs quoting.
 */
export function idArrayLiteral(ids: readonly string[]): string {
  return `{${ids.join(",")}}`;
}
