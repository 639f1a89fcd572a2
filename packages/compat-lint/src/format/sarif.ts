import { docsPath, type LintResult } from "../diagnostic.js";
import { rules } from "../rules/index.js";

/** SARIF 2.1.0, for code-scanning dashboards. Allowed findings carry an in-source suppression. */
export function formatSarif(result: LintResult, version: string): string {
  const doc = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "compat-lint",
            version,
            informationUri: "https://github.com/cutover/cutover/tree/main/docs/compat-lint",
            rules: rules.map((r) => ({
              id: r.id,
              shortDescription: { text: r.summary },
              help: { text: r.hint },
              helpUri: docsPath(r.id),
              defaultConfiguration: { level: r.defaultSeverity === "error" ? "error" : "warning" },
              properties: { category: r.category },
            })),
          },
        },
        columnKind: "unicodeCodePoints",
        results: result.diagnostics.map((d) => ({
          ruleId: d.ruleId,
          level: d.severity === "error" ? "error" : d.severity === "warning" ? "warning" : "note",
          message: { text: d.hint ? `${d.message}\nhint: ${d.hint}` : d.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: encodeURI(d.file) },
                region: {
                  startLine: d.start.line,
                  startColumn: d.start.column,
                  endLine: d.end.line,
                  endColumn: Math.max(d.end.column, d.end.line === d.start.line ? d.start.column : 1),
                },
              },
            },
          ],
          ...(d.reason !== undefined
            ? { suppressions: [{ kind: "inSource", justification: d.reason }] }
            : {}),
        })),
      },
    ],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
