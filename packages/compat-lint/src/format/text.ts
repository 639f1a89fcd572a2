import { type Diagnostic, docsPath, type LintResult, summarize } from "../engine/diagnostic.js";

/**
 * The human format: `file:line:col rule-id severity: message`, the source
 * line with a caret under the span, the hint with the safe recipe, and for
 * allowed findings the marker's reason.
 */
export function formatText(result: LintResult): string {
  const out: string[] = [];
  for (const d of result.diagnostics) out.push(renderOne(d, result.lines.get(d.file)));
  out.push(summaryLine(result));
  return `${out.join("\n")}\n`;
}

function renderOne(d: Diagnostic, lineOf: ((n: number) => string) | undefined): string {
  const head = `${d.file}:${d.start.line}:${d.start.column} ${d.ruleId} ${d.severity}: ${d.message}`;
  const lines = [head];
  const src = lineOf?.(d.start.line);
  if (src !== undefined) {
    const num = String(d.start.line);
    const pad = " ".repeat(num.length);
    const chars = [...src];
    // Cut by code points, never between the halves of a surrogate pair.
    const shown = chars.length > 200 ? `${chars.slice(0, 200).join("")}…` : src;
    const startCol = Math.min(d.start.column - 1, chars.length);
    const endCol = d.end.line === d.start.line ? Math.max(d.end.column - 1, startCol + 1) : chars.length;
    // Keep tabs so the caret lines up under tab-indented SQL, and pad by each character's width
    // in a terminal: two cells for CJK and emoji, none for a combining accent.
    const lead = chars
      .slice(0, startCol)
      .map((c) => (c === "\t" ? "\t" : " ".repeat(cells(c))))
      .join("");
    let width = 0;
    for (const c of chars.slice(startCol, endCol)) width += c === "\t" ? 1 : cells(c);
    lines.push(` ${num} | ${shown}`);
    if (startCol <= 200) lines.push(` ${pad} | ${lead}${"^".repeat(Math.min(Math.max(width, 1), 200))}`);
  }
  const indent = "   ";
  if (d.reason !== undefined) lines.push(`${indent}= allowed by marker: ${d.reason}`);
  if (d.hint) lines.push(`${indent}= hint: ${d.hint}`);
  const docs = docsPath(d.ruleId);
  if (docs) lines.push(`${indent}= docs: ${docs}`);
  return `${lines.join("\n")}\n`;
}

/** Terminal cells a code point takes: 0 (combining marks, zero-width), 2 (wide), else 1. */
function cells(c: string): number {
  if (c.charCodeAt(0) < 0x300) return 1;
  if (zeroWidth.test(c)) return 0;
  return wide.test(c) ? 2 : 1;
}

const zeroWidth = /^[\p{Mn}\p{Me}\u200B-\u200F\u2060\uFEFF]$/u;
// East Asian Wide and Fullwidth (Unicode UAX #11) and emoji shown as emoji by default.
const wide =
  /^[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uA960-\uA97F\uAC00-\uD7A3\uF900-\uFAFF\uFE10-\uFE19\uFE30-\uFE6F\uFF00-\uFF60\uFFE0-\uFFE6\u{1B000}-\u{1B2FF}\u{20000}-\u{3FFFD}\p{Emoji_Presentation}]$/u;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function summaryLine(result: LintResult): string {
  const s = summarize(result.diagnostics);
  const parts = [plural(result.files.length, "file")];
  if (s.unparsable) parts.push(`${plural(s.unparsable, "file")} not parsed`);
  parts.push(plural(s.errors, "error"), plural(s.warnings, "warning"));
  if (s.allowed) parts.push(`${s.allowed} allowed`);
  return `compat-lint: ${parts.join(", ")}`;
}
