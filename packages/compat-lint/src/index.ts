/**
 * @cutover/compat-lint: a migration linter that keeps every change
 * expand/contract-safe for the previous deployment generation.
 *
 * The programmatic surface: `lint()` for files on disk, `lintSources()` for
 * in-memory SQL, diagnostics as data, and the renderers the CLI uses.
 */
export {
  type Config,
  ConfigError,
  configFileNames,
  defaultConfig,
  loadConfigFile,
  mergeConfig,
  type RuleSetting,
  validateConfig,
} from "./engine/config.js";
export {
  type Diagnostic,
  docsPath,
  exitCodeOf,
  type Level,
  type LintResult,
  READ_ERROR,
  type Summary,
  SYNTAX_ERROR,
  summarize,
} from "./engine/diagnostic.js";
export { collectFiles, compareMigrationNames, UsageError } from "./engine/files.js";
export { type LintOptions, lint } from "./engine/lint-files.js";
export { type LintSourcesOptions, lintSources, type SourceInput } from "./engine/lint-sources.js";
export { formatGithub } from "./format/github.js";
export { formatJson } from "./format/json.js";
export { repoPathMapper } from "./format/repo-path.js";
export { formatSarif } from "./format/sarif.js";
export { formatText } from "./format/text.js";
export type { Position } from "./parse/source.js";
export { ruleById, rules } from "./rules/index.js";
export type { Category, Finding, Rule, RuleMeta, Severity } from "./rules/rule.js";
export { formatType, type SqlType, type TypeChangeVerdict, typeChange } from "./schema/sql-type.js";
export { version } from "./version.js";
