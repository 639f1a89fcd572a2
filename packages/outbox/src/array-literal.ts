/**
 * Array parameters sent as PostgreSQL array literal text, built in one pass
 * instead of by pg, which escapes every element through
 * `prepareValue`/`escapeElement`/`arrayString` (a regular expression replace
 * per element: ~1 µs per event in the burn-down's worker profile,
 * tools/bench/profile/PROFILE.md section 7). A text parameter reaches the
 * statement's `$n::text[]` / `$n::bigint[]` / `$n::jsonb[]` cast exactly as
 * pg's own encoding of the same array would. Used by the consumer's chunk
 * (event_handled insert, completion) and by the publisher (its columns).
 *
 * array_in's rules: each element double-quoted, `"` and `\` escaped with `\`;
 * inside quotes nothing else is special (commas, braces, spaces and the word
 * NULL are plain text); an unquoted NULL is SQL NULL.
 */

/** One text as a quoted array element. */
export function arrayElement(text: string): string {
  return `"${text.indexOf('"') < 0 && text.indexOf("\\") < 0 ? text : text.replace(/[\\"]/g, "\\$&")}"`;
}

/** `{"a","b\"c"}`. No element may be null. */
export function textArrayLiteral(values: readonly string[]): string {
  let s = "{";
  for (let i = 0; i < values.length; i++)
    s += i === 0 ? arrayElement(values[i]!) : `,${arrayElement(values[i]!)}`;
  return `${s}}`;
}

/** Texts where an absent one is SQL NULL; null (no array at all) when there are none. */
export function nullableArrayLiteral(texts: ReadonlyArray<string | undefined> | undefined): string | null {
  if (!texts) return null;
  return `{${Array.from(texts, (t) => (t === undefined ? "NULL" : arrayElement(t))).join(",")}}`;
}

/**
 * `{1,2,3}` for ids that are the decimal text of bigints (the claim returns
 * `id::text`), so no element needs quoting.
 */
export function idArrayLiteral(ids: readonly string[]): string {
  return `{${ids.join(",")}}`;
}
