import { pathToFileURL } from "node:url";
import { type LintResult, READ_ERROR, SYNTAX_ERROR } from "../engine/diagnostic.js";
import { rules } from "../rules/index.js";
import { ruleDoc, ruleDocPath } from "./rule-docs.js";

/**
 * SARIF wants absolute URIs for helpUri. The docs ship inside the npm package (docs/compat-lint/),
 * so a CDN that serves published packages' files resolves them for exactly the version that
 * produced the report; the full page is in each rule's `help` too, for a viewer offline.
 */
const docsBase = (version: string) => `https://cdn.jsdelivr.net/npm/@cutover/compat-lint@${version}/`;

/**
 * SARIF 2.1.0, for code-scanning dashboards. Allowed findings carry an in-source suppression.
 * Code scanning resolves a relative `uri` against the repository root; `pathOf` maps a
 * diagnostic's path (relative to the working directory) to that (the CLI passes
 * repoPathMapper(cwd)).
 */
export function formatSarif(
  result: LintResult,
  version: string,
  pathOf: (file: string) => string = (f) => f,
): string {
  const doc = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "compat-lint",
            version,
            informationUri: `${docsBase(version)}docs/compat-lint/README.md`,
            rules: [
              ...rules.map((r) => ({
                id: r.id,
                shortDescription: { text: r.summary },
                fullDescription: { text: r.summary },
                help: helpOf(r.id, r.summary, r.hint),
                helpUri: `${docsBase(version)}${ruleDocPath(r.id)}`,
                defaultConfiguration: { level: r.defaultSeverity === "error" ? "error" : "warning" },
                properties: { category: r.category },
              })),
              ...fileProblems(version),
            ],
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
                artifactLocation: { uri: fileUri(pathOf(d.file)) },
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

/**
 * The two results that are not rules' findings: every result's ruleId must have a driver.rules
 * entry (code scanning shows its description). Both are errors that cannot be configured off.
 */
const fileProblems = (version: string) => [
  {
    id: SYNTAX_ERROR,
    shortDescription: {
      text: "A migration that Postgres's parser rejects; it cannot be linted (exit status 2), and the migrator would fail on it too.",
    },
    help: { text: "Fix the SQL at the reported position; the message is the parser's." },
    helpUri: `${docsBase(version)}docs/compat-lint/README.md#exit-status`,
    defaultConfiguration: { level: "error" },
    properties: { category: "syntax" },
  },
  {
    id: READ_ERROR,
    shortDescription: {
      text: "A migration that cannot be read as UTF-8 text (invalid UTF-8, or a file that cannot be opened such as a dangling symbolic link); it cannot be linted (exit status 2).",
    },
    help: { text: "Save the file as UTF-8, or fix the path it points to." },
    helpUri: `${docsBase(version)}docs/compat-lint/README.md#exit-status`,
    defaultConfiguration: { level: "error" },
    properties: { category: "syntax" },
  },
];

/**
 * A rule's help: its whole docs page (what breaks, why, the expand/contract recipe) as Markdown,
 * and as text the summary and hint; or the summary and hint alone without the shipped docs.
 */
function helpOf(id: string, summary: string, hint: string): { text: string; markdown?: string } {
  const page = ruleDoc(id);
  const text = `${summary}\n\n${hint}`;
  return page === undefined ? { text } : { text: `${text}\n\n${page}`, markdown: page };
}

/**
 * A relative path as a relative URI reference, every segment percent-encoded (encodeURI would
 * leave "#" and "?", which start a fragment or a query, and a ":" that makes the first segment
 * read as a scheme); an absolute path as a file: URI.
 */
function fileUri(path: string): string {
  if (path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path)) return pathToFileURL(path).href;
  return path.split("/").map(encodeURIComponent).join("/");
}
