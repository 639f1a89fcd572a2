import { ParserChoiceError, parserDescription } from "../parse/backend.js";
import { type IgnoreDirective, readDirectives, upSection } from "../parse/migration-file.js";
import { initParser, parseRange, type Statement } from "../parse/parser.js";
import { SourceText } from "../parse/source.js";
import { decode } from "../parse/utf8.js";
import { ruleById } from "../rules/index.js";
import type { FileContext, Finding, Rule, RuleContext, Span } from "../rules/rule.js";
import type { Finder } from "../rules/shape.js";
import { type Origin, SchemaModel } from "../schema/model.js";
import { replay } from "../schema/replay.js";
import { type Config, ConfigError, mergeConfig } from "./config.js";
import { type Diagnostic, exitCodeOf, type LintResult, READ_ERROR, SYNTAX_ERROR } from "./diagnostic.js";
import { alreadyExists, unwrapIdempotentDo } from "./idempotent-do.js";
import { fileRules, RuleDispatch, splitAlterTable } from "./rule-dispatch.js";

/** One migration file, already read. */
export interface SourceInput {
  /** Display path. */
  path: string;
  /** Raw bytes (checked for valid UTF-8) or text. */
  content: Buffer | string;
  /** Set when the file could not be read (content is then ignored): a read-error diagnostic at 1:1, exit 2. */
  readError?: string;
  /** Whether the file belongs to the change set under review (it is linted, and what it creates is exempt). */
  inChangeSet: boolean;
  /**
   * The file's content at a git ref it already existed at, when it changed since (lint() with
   * --since): its statements are compared with the current ones (edited-migration).
   */
  previous?: { content: Buffer | string; ref: string };
  /**
   * With changeSet "file": consecutive inputs carrying the same key form one change set (one
   * migration written as several files); undefined, the file is a change set of its own.
   */
  changeSetKey?: string;
}

export interface LintSourcesOptions {
  config?: Partial<Config>;
  /**
   * "file" (default): each file is its own change set (or, with changeSetKey,
   * each run of files sharing a key), so an object is exempt only inside the
   * change set that creates it. "inputs": all inputs flagged
   * inChangeSet form one change set (what --since does).
   */
  changeSet?: "file" | "inputs";
}

/**
 * Loads the parser (native or WASM, src/parse/backend.ts); a COMPAT_LINT_PARSER
 * setting it cannot honour is a ConfigError (exit 2, one line), not a crash.
 */
export async function loadParser(): Promise<void> {
  try {
    await initParser();
  } catch (err) {
    throw err instanceof ParserChoiceError ? new ConfigError(err.message) : err;
  }
}

/** Loads the parser and names it: which libpg_query build parses (`compat-lint --debug`). */
export async function describeParser(): Promise<string> {
  await loadParser();
  return parserDescription();
}

/**
 * Lints migration files in the order given (the caller sorts them as the
 * migrator would). Never throws for bad input: unreadable bytes and syntax
 * errors become diagnostics with a location, and exit code 2.
 */
export async function lintSources(
  inputs: readonly SourceInput[],
  options: LintSourcesOptions = {},
): Promise<LintResult> {
  await loadParser();
  const config = mergeConfig(options.config ?? {});
  const perFile = (options.changeSet ?? "file") === "file";
  const model = new SchemaModel(config.searchPath);
  const diagnostics: Diagnostic[] = [];
  const lines = new Map<string, (line: number) => string>();
  const dispatch = new RuleDispatch();
  // The open change set (per-file mode): its files' origins, where its diagnostics start, and
  // the findings a later statement of the same change set may withdraw.
  let group: { key: string | undefined; origins: Origin[]; first: number } | undefined;
  const conditional = new Map<Diagnostic, (end: SchemaModel) => boolean>();
  const close = () => {
    if (group === undefined) return;
    withdraw(model, diagnostics, group.first, conditional);
    conditional.clear();
    // Once a change set is done, what it created is "existing" for the next one.
    for (const o of group.origins) o.inChangeSet = false;
    group = undefined;
  };
  for (const input of inputs) {
    if (
      perFile &&
      (group === undefined || input.changeSetKey === undefined || input.changeSetKey !== group.key)
    )
      close();
    if (perFile) group ??= { key: input.changeSetKey, origins: [], first: diagnostics.length };
    // Each migration may run in its own session: a SET search_path lasts to the end of its file only.
    model.searchPath = [...config.searchPath];
    const origin: Origin = { file: input.path, inChangeSet: input.inChangeSet };
    group?.origins.push(origin);
    lintOne(input, origin, model, config, diagnostics, lines, dispatch, conditional);
    // A finding withdrawn by the end of its own file stays withdrawn (a later file of the change
    // set does not bring it back); the rest wait for the end of the change set.
    withdraw(model, diagnostics, group?.first ?? 0, conditional);
  }
  if (perFile) close();
  else withdraw(model, diagnostics, 0, conditional);
  return { diagnostics, files: inputs.map((i) => i.path), exitCode: exitCodeOf(diagnostics), lines };
}

/** Drops, from diagnostics[first..], the findings whose withdrawal test holds on the model now. */
function withdraw(
  model: SchemaModel,
  diagnostics: Diagnostic[],
  first: number,
  conditional: Map<Diagnostic, (end: SchemaModel) => boolean>,
): void {
  if (conditional.size === 0) return;
  const withdrawn = new Set<Diagnostic>();
  for (const [d, test] of conditional) {
    try {
      if (test(model)) withdrawn.add(d);
    } catch {
      // A failing test keeps the finding: when in doubt, report.
    }
  }
  for (const d of withdrawn) conditional.delete(d);
  if (withdrawn.size === 0) return;
  let w = first;
  for (let i = first; i < diagnostics.length; i++) {
    const d = diagnostics[i]!;
    if (!withdrawn.has(d)) diagnostics[w++] = d;
  }
  diagnostics.length = w;
}

function lintOne(
  input: SourceInput,
  origin: Origin,
  model: SchemaModel,
  config: Config,
  diagnostics: Diagnostic[],
  lines: Map<string, (line: number) => string>,
  dispatch: RuleDispatch,
  conditional: Map<Diagnostic, (end: SchemaModel) => boolean>,
): void {
  const { text, bytes, invalidAt } = decode(input.readError === undefined ? input.content : "");
  const source = new SourceText(text, bytes);
  lines.set(input.path, (n) => source.lineText(n));
  const syntax = (message: string, offset: number, ruleId = SYNTAX_ERROR) => {
    const pos = source.position(offset);
    diagnostics.push({
      file: input.path,
      ruleId,
      category: "syntax",
      severity: "error",
      message,
      hint: undefined,
      reason: undefined,
      start: pos,
      end: pos,
    });
  };
  if (input.readError !== undefined) {
    syntax(input.readError, 0, READ_ERROR);
    return;
  }
  if (invalidAt !== undefined) {
    // The lossy decode maps bytes differently; report the byte offset's line from the raw bytes.
    const raw = input.content as Buffer;
    const prefix = raw.subarray(0, invalidAt).toString("utf8");
    syntax(
      "invalid UTF-8 byte sequence (Postgres would reject this file)",
      Buffer.byteLength(prefix),
      READ_ERROR,
    );
    return;
  }
  const section = upSection(text);
  const sectionBase = source.byteOffsetOfIndex(section.start);
  const directives = readDirectives(text, section, (id) => ruleById.has(id));
  const parsed = parseRange(source, section.start, section.end);
  if (!parsed.ok) {
    // An editor's byte-order mark: Postgres reads U+FEFF as part of the first word, and the
    // parser's "syntax error at or near ..." shows nothing visible to remove.
    const bom = text.charCodeAt(section.start) === 0xfeff;
    syntax(
      bom
        ? `the file starts with a UTF-8 byte-order mark (U+FEFF), which Postgres rejects (node-pg-migrate sends the file as it is); save it as UTF-8 without a BOM (parser: ${parsed.error.message})`
        : parsed.error.message,
      bom ? (section.start === 0 ? 0 : source.byteOffsetOfIndex(section.start)) : parsed.error.offset,
    );
    return;
  }

  // Findings the end of the file may withdraw (Finding.withdrawnIf), with their diagnostics.
  const report = (rule: Rule, finding: Finding, span: Span, stmt: Statement | undefined) => {
    const setting = config.rules[rule.id] ?? rule.defaultSeverity;
    if (setting === "off") return;
    if (stmt && isIgnored(rule.id, stmt, directives.ignores, source)) return;
    const marker = directives.marker;
    const breaking = rule.category === "contract" || rule.category === "unverifiable";
    const allowed = marker !== undefined && breaking;
    const diagnostic: Diagnostic = {
      file: input.path,
      ruleId: rule.id,
      category: rule.category,
      severity: allowed ? "allowed" : setting,
      message: finding.message,
      hint: finding.hint ?? rule.hint,
      reason: allowed ? marker.reason : undefined,
      start: source.position(span.start),
      end: source.position(span.end),
    };
    diagnostics.push(diagnostic);
    if (finding.withdrawnIf) conditional.set(diagnostic, finding.withdrawnIf);
  };

  const file: FileContext = {
    inChangeSet: input.inChangeSet,
    source,
    statements: parsed.statements,
    directives,
    previous: input.previous,
  };
  // Indexed loops below, not for...of: the CLI runs without TurboFan (--no-opt), where each
  // for...of step allocates an iterator result, and these run for every statement of every file.
  for (let r = 0; r < fileRules.length; r++) {
    const rule = fileRules[r]!;
    const found = rule.checkFile!(file);
    for (let i = 0; i < found.length; i++) report(rule, found[i]!, found[i]!.span, found[i]!.statement);
  }

  const statements = parsed.statements;
  for (let s = 0; s < statements.length; s++) {
    const top = statements[s]!;
    // drizzle-kit's `DO $$ BEGIN <ddl>; EXCEPTION WHEN duplicate_object THEN null; END $$` is its <ddl>,
    // or nothing when what <ddl> creates already exists (the handler swallows the error).
    let whole = top;
    if (top.kind === "DoStmt") {
      const inner = unwrapIdempotentDo(top, source, sectionBase);
      if (inner !== undefined && alreadyExists(model, inner)) continue;
      if (inner !== undefined) whole = inner;
    }
    const split = splitAlterTable(whole);
    for (let p = 0; p < split.length; p++) {
      const stmt = split[p]!;
      const applicable = input.inChangeSet ? dispatch.for(stmt) : noRules;
      if (applicable.length > 0) {
        const ctx = context(stmt, model, origin, config, source, sectionBase);
        for (let r = 0; r < applicable.length; r++) {
          const rule = applicable[r]!;
          let findings: Finding[];
          try {
            findings = rule.check!(ctx);
          } catch (err) {
            // A rule bug must not take the whole run down; surface it as a finding of that rule.
            findings = [{ message: `internal error in rule ${rule.id}: ${(err as Error).message}` }];
          }
          for (let i = 0; i < findings.length; i++) {
            const f = findings[i]!;
            report(rule, f, f.span ?? { start: stmt.start, end: stmt.end }, stmt);
          }
        }
      }
      try {
        replay(model, stmt, origin, config.searchPath);
      } catch {
        // Replay is best effort; an unexpected AST shape leaves the model as it was.
      }
    }
  }
}

const noRules: readonly Rule[] = [];

function isIgnored(ruleId: string, stmt: Statement, ignores: IgnoreDirective[], source: SourceText): boolean {
  for (const d of ignores) {
    if (!d.ruleIds.includes(ruleId)) continue;
    if (d.scope === "file") return true;
    // A statement-level ignore applies to the first statement after the comment.
    const end = source.byteOffsetOfIndex(d.end);
    if (end <= stmt.start && !hasStatementBetween(source, end, stmt.start)) return true;
  }
  return false;
}

/** Whether a `;` separates the comment from the statement (then the comment belonged to an earlier one). */
function hasStatementBetween(source: SourceText, from: number, to: number): boolean {
  return source
    .slice(from, to)
    .replace(/--[^\n]*/g, "")
    .includes(";");
}

function context(
  stmt: Statement,
  model: SchemaModel,
  origin: Origin,
  config: Config,
  source: SourceText,
  base: number,
): RuleContext {
  return new StatementContext(stmt, model, config.pgVersion, origin, source, base);
}

/**
 * A statement's RuleContext. A class, not an object literal with closures: one is made for
 * every statement some rule looks at, and the CLI runs without TurboFan (--no-opt), so three
 * closures and their context per statement were all allocated; methods on the prototype are not.
 */
class StatementContext implements RuleContext {
  /** The statement's text, sliced on first use: most statements produce no finding and never need it. */
  private text: string | undefined = undefined;
  private readonly ascii: boolean;

  constructor(
    readonly stmt: Statement,
    readonly schema: SchemaModel,
    readonly pgVersion: number,
    readonly origin: Origin,
    private readonly source: SourceText,
    private readonly base: number,
  ) {
    this.ascii = source.isAscii;
  }

  private lineEnd(start: number): number {
    const source = this.source;
    const nl = this.ascii ? source.text.indexOf("\n", start) : source.bytes.indexOf(0x0a, start);
    return Math.min(this.stmt.end, nl < 0 ? source.bytes.length : nl);
  }

  at(location: number | undefined): Span {
    const stmt = this.stmt;
    if (location === undefined || location < 0) return { start: stmt.start, end: this.lineEnd(stmt.start) };
    const start = this.base + location;
    return { start, end: this.lineEnd(start) };
  }

  find(pattern: Finder): Span {
    const stmt = this.stmt;
    this.text ??= this.source.slice(stmt.start, stmt.end);
    const text = this.text;
    const m = pattern.exec(text);
    if (!m) return { start: stmt.start, end: this.lineEnd(stmt.start) };
    const ascii = this.ascii;
    const start = stmt.start + (ascii ? m.index : Buffer.byteLength(text.slice(0, m.index)));
    return {
      start,
      end: Math.min(start + (ascii ? m[0].length : Buffer.byteLength(m[0])), this.lineEnd(start)),
    };
  }
}
