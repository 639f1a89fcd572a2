import type { Position } from "../parse/source.js";
import type { Category } from "../rules/rule.js";

/**
 * error: fails the check (exit 1); warning: reported, exit 0; allowed: a
 * contract finding in a file carrying `-- compat: breaking (reason: ...)`,
 * reported with the reason so a reviewer sees what was let through.
 */
export type Level = "error" | "warning" | "allowed";

/** A finding as data. Renderers (text, json, github, sarif) only format these. */
export interface Diagnostic {
  /** Path as given / relative to the working directory, with forward slashes. */
  file: string;
  /** A rule id, or "syntax-error" / "read-error" for files that cannot be linted (exit 2). */
  ruleId: string;
  category: Category | "syntax";
  severity: Level;
  message: string;
  hint: string | undefined;
  /** The breaking marker's reason, for allowed findings. */
  reason: string | undefined;
  start: Position;
  end: Position;
}

export interface LintResult {
  diagnostics: Diagnostic[];
  /** Files linted or replayed, in migration order. */
  files: string[];
  /** 0 clean (warnings and allowed findings do not count), 1 violations, 2 a file could not be parsed or read. */
  exitCode: 0 | 1 | 2;
  /** Source lines for rendering, by file. */
  lines: ReadonlyMap<string, (line: number) => string>;
}

export const SYNTAX_ERROR = "syntax-error";
export const READ_ERROR = "read-error";

export function docsPath(ruleId: string): string | undefined {
  if (ruleId === SYNTAX_ERROR || ruleId === READ_ERROR) return undefined;
  return `docs/compat-lint/rules/${ruleId}.md`;
}

export interface Summary {
  errors: number;
  warnings: number;
  allowed: number;
  /** Files that could not be parsed or read. */
  unparsable: number;
}

export function summarize(diagnostics: readonly Diagnostic[]): Summary {
  const s: Summary = { errors: 0, warnings: 0, allowed: 0, unparsable: 0 };
  for (const d of diagnostics) {
    if (d.category === "syntax") s.unparsable++;
    else if (d.severity === "error") s.errors++;
    else if (d.severity === "warning") s.warnings++;
    else s.allowed++;
  }
  return s;
}

export function exitCodeOf(diagnostics: readonly Diagnostic[]): 0 | 1 | 2 {
  const s = summarize(diagnostics);
  if (s.unparsable > 0) return 2;
  return s.errors > 0 ? 1 : 0;
}
