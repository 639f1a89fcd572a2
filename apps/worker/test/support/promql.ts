/**
 * Just enough PromQL reading to check shipped rules and dashboards against
 * what /metrics exports: the metric names an expression selects and the label
 * names it groups by. Not a parser: syntax is promtool's job (when installed).
 */
const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
]);

/** Metric names selected by `expr` (identifiers that are not functions, keywords, labels or numbers). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // strings
    .replace(/\{[^}]*\}/g, "") // label matchers
    .replace(/\[[^\]]*\]/g, "") // range and subquery durations ($__rate_interval too)
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " "); // label lists
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = stripped.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith("(")) continue; // a function call
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    if (/[0-9.]/.test(stripped[m.index! - 1] ?? "")) continue; // the exponent of 1e3

    names.add(m[0]);
  }
  return [...names];
}

/** Label names in the expression's by (...) / without (...) clauses. */
export function groupingLabels(expr: string): string[] {
  const out = new Set<string>();
  for (const m of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const l of m[1]!.split(",")) if (l.trim()) out.add(l.trim());
  }
  return [...out];
}

/** Sample names and their label names, from a Prometheus text exposition. */
export function exposition(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!m) continue;
    const labels = out.get(m[1]!) ?? new Set<string>();
    for (const l of (m[2] ?? "").matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)) labels.add(l[1]!);
    out.set(m[1]!, labels);
  }
  return out;
}
