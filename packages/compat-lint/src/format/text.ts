import { type Diagnostic, docsPath, type LintResult, summarize } from "../diagnostic.js";

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
    const shown = src.length > 200 ? `${src.slice(0, 200)}…` : src;
    const chars = [...src];
    const startCol = Math.min(d.start.column - 1, chars.length);
    const endCol = d.end.line === d.start.line ? Math.max(d.end.column - 1, startCol + 1) : chars.length;
    // Keep tabs so the caret lines up under tab-indented SQL.
    const lead = chars
      .slice(0, startCol)
      .map((c) => (c === "\t" ? "\t" : " "))
      .join("");
    const width = Math.max(1, Math.min(endCol, Math.max(chars.length, startCol + 1)) - startCol);
    lines.push(` ${num} | ${shown}`);
    if (startCol <= 200) lines.push(` ${pad} | ${lead}${"^".repeat(Math.min(width, 200))}`);
  }
  const indent = "   ";
  if (d.reason !== undefined) lines.push(`${indent}= allowed by marker: ${d.reason}`);
  if (d.hint) lines.push(`${indent}= hint: ${d.hint}`);
  const docs = docsPath(d.ruleId);
  if (docs) lines.push(`${indent}= docs: ${docs}`);
  return `${lines.join("\n")}\n`;
}

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
