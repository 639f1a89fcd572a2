import { docsPath, type LintResult, summarize } from "../engine/diagnostic.js";

/** Machine-readable output; field names are part of the public contract. */
export function formatJson(result: LintResult, version: string): string {
  const doc = {
    tool: "compat-lint",
    version,
    exitCode: result.exitCode,
    files: result.files,
    summary: summarize(result.diagnostics),
    diagnostics: result.diagnostics.map((d) => ({
      file: d.file,
      line: d.start.line,
      column: d.start.column,
      endLine: d.end.line,
      endColumn: d.end.column,
      offset: d.start.offset,
      ruleId: d.ruleId,
      category: d.category,
      severity: d.severity,
      message: d.message,
      hint: d.hint ?? null,
      reason: d.reason ?? null,
      docs: docsPath(d.ruleId) ?? null,
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
