import type { Directives } from "../parse/migration-file.js";
import type { Statement } from "../parse/parser.js";
import type { SourceText } from "../parse/source.js";
import type { Origin, SchemaModel } from "../schema/model.js";
import type { Finder } from "./shape.js";

/**
 * What a rule is. A rule is a pure function from one statement and the schema
 * as it stood before that statement to findings (check), or from one whole
 * file to findings (checkFile: what a file's comments or its earlier version
 * say); it never mutates the model and never renders text. The engine
 * attaches severity, file and position. Helpers rules share are in
 * helpers.ts; what the schema looks like is asked through schema/queries.ts.
 */
export type Category = "contract" | "lock" | "unverifiable" | "directive";
export type Severity = "error" | "warning";

export interface RuleMeta {
  /** Stable kebab-case id, used in config, ignore comments, output and the docs file name. */
  id: string;
  /**
   * contract: breaks the previous generation's code (error by default);
   * lock: safe for old code but takes a heavy lock or rewrites (warning by default);
   * unverifiable: the linter cannot see what the statement does;
   * directive: a malformed compat marker or ignore comment.
   */
  category: Category;
  defaultSeverity: Severity;
  /** One line: what the rule rejects. */
  summary: string;
  /** The safe recipe, in one or two sentences; the docs page has the long form. */
  hint: string;
}

export interface Span {
  /** Absolute UTF-8 byte offsets. */
  start: number;
  end: number;
}

export interface Finding {
  message: string;
  /** Overrides the rule's hint when the recipe depends on the statement. */
  hint?: string;
  span?: Span;
  /**
   * A finding about something the same file may put back (a view with a
   * renamed table's old name, a dropped constraint re-added under its name):
   * called with the schema as the whole file left it; true withdraws the
   * finding. It must capture what it needs now, not read the statement's ctx.
   */
  withdrawnIf?: (end: SchemaModel) => boolean;
}

export interface RuleContext {
  stmt: Statement;
  /** The schema before this statement ran. Rules must not mutate it. */
  schema: SchemaModel;
  /** Target Postgres major version (config `pgVersion`). */
  pgVersion: number;
  /** The origin of the file being linted: a model object with this very origin was made by this file. */
  origin: Origin;
  /** Span of a parser location (byte offset relative to the parsed section). */
  at(location: number | undefined): Span;
  /**
   * Span of the first match of a pattern in the statement's text; the statement start if none.
   * A RegExp, or a keyword shape around a name (shape() in ./shape.ts, which compiles nothing).
   */
  find(pattern: Finder): Span;
}

export interface Rule extends RuleMeta {
  /**
   * The statements the rule can report on; the linter does not call check()
   * for any other. Each entry is a statement kind ("DropStmt") or, since
   * ALTER TABLE is judged one command at a time, "AlterTableStmt.<subtype>"
   * ("AlterTableStmt.AT_DropColumn"); a bare "AlterTableStmt" means every
   * ALTER TABLE. Omitted: every statement. check() must still return [] for
   * statements it does not handle, so it stays correct when called directly
   * (test/dispatch.test.ts checks these lists against the corpus). A rule
   * with only checkFile() lists none.
   */
  kinds?: readonly string[];
  /** Findings for one statement (of `kinds`), judged against the schema before it. */
  check?(ctx: RuleContext): Finding[];
  /**
   * Findings for one file of the change set as a whole, called once per file
   * that parsed, before its statements are checked, in the order of the rule
   * list.
   */
  checkFile?(file: FileContext): FileFinding[];
}

/** One migration file that parsed, for Rule.checkFile. */
export interface FileContext {
  /** Whether the file is in the change set under review (not only replayed for context). */
  inChangeSet: boolean;
  source: SourceText;
  /** The statements of its Up section, in order. */
  statements: readonly Statement[];
  /** Its `-- compat:` marker and `-- compat-lint` ignore comments, and the malformed ones. */
  directives: Directives;
  /** The file's content at a git ref it already existed at, when it changed since (lint() with --since). */
  previous: { content: Buffer | string; ref: string } | undefined;
}

/** A finding about a file: where it is, and the statement it concerns, if any. */
export interface FileFinding extends Finding {
  span: Span;
  /**
   * The statement the finding concerns: the file's ignore comments for that
   * statement apply to it. Unset: nothing can ignore it (a malformed ignore
   * comment must not be silenced by another).
   */
  statement?: Statement;
}
