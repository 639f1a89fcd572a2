import type { LintResult } from "../engine/diagnostic.js";
import { summaryLine } from "./text.js";

/**
 * GitHub Actions workflow commands: one annotation per diagnostic on the PR diff. GitHub reads
 * `file=` relative to the repository root; `pathOf` maps a diagnostic's path (relative to the
 * working directory) to that (the CLI passes repoPathMapper(cwd)).
 */
export function formatGithub(result: LintResult, pathOf: (file: string) => string = (f) => f): string {
  const out: string[] = [];
  for (const d of result.diagnostics) {
    const level = d.severity === "error" ? "error" : d.severity === "warning" ? "warning" : "notice";
    const props = [
      `file=${prop(pathOf(d.file))}`,
      `line=${d.start.line}`,
      `col=${d.start.column}`,
      `endLine=${d.end.line}`,
      `endColumn=${d.end.column}`,
      `title=${prop(`compat-lint ${d.ruleId}`)}`,
    ].join(",");
    const body = [
      d.message,
      d.reason !== undefined ? `allowed by marker: ${d.reason}` : "",
      d.hint ? `hint: ${d.hint}` : "",
    ]
      .filter((s) => s !== "")
      .join("\n");
    out.push(`::${level} ${props}::${data(body)}`);
  }
  out.push(summaryLine(result));
  return `${out.join("\n")}\n`;
}

function data(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function prop(s: string): string {
  return data(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
