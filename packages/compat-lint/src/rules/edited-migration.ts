import { withCanonicalBodies } from "../parse/body-text.js";
import { upSection } from "../parse/migration-file.js";
import { parseRange, type Statement } from "../parse/parser.js";
import { SourceText } from "../parse/source.js";
import type { Rule, Span } from "./rule.js";

/**
 * With `--since <ref>`: a migration file that existed at the ref and whose
 * statements changed since. Migrators record a migration by name once it ran
 * (node-pg-migrate's pgmigrations table), so an edit never reaches a database
 * that already ran the file: production and a fresh database silently
 * diverge. Whitespace and comment edits do not count (the statements are
 * compared as parse trees, without positions; a PL/pgSQL or SQL body in
 * canonical text, see parse/body-text.ts).
 */
export const editedMigration: Rule = {
  id: "edited-migration",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "A migration that already existed at the `--since` ref was edited: databases that ran it never run the edit.",
  hint: "Leave the old migration as it was and put the change in a new migration file; if the edit only makes the file run on fresh databases (the same effect on databases that ran it), say so with `-- compat: breaking (reason: ...)`.",
  kinds: [],
  checkFile({ previous, statements, source }) {
    if (previous === undefined) return [];
    const edit = firstEdit(previous.content, statements, source);
    if (edit === undefined) return [];
    return [
      {
        message: `this migration already existed at ${previous.ref} and its statements changed since (${edit.what}); databases that ran it (recorded by name) never run the change, so they and new databases diverge`,
        span: edit.span,
        statement: edit.stmt,
      },
    ];
  },
};

/**
 * Where a migration's statements first differ from its earlier version, or
 * undefined when they are the same statements (whitespace, comments and
 * positions do not count). Compares the Up sections' parse trees.
 */
function firstEdit(
  previous: Buffer | string,
  current: readonly Statement[],
  source: SourceText,
): { what: string; span: Span; stmt: Statement | undefined } | undefined {
  const text = typeof previous === "string" ? previous : previous.toString("utf8");
  const before = new SourceText(text);
  const section = upSection(text);
  const old = parseRange(before, section.start, section.end);
  const whole = { start: 0, end: Math.min(source.bytes.length, lineEndOf(source, 0)) };
  if (!old.ok) return { what: "the earlier version did not parse", span: whole, stmt: current[0] };
  const n = Math.max(old.statements.length, current.length);
  for (let i = 0; i < n; i++) {
    const a = old.statements[i];
    const b = current[i];
    if (a !== undefined && b !== undefined && treeKey(a) === treeKey(b)) continue;
    const ordinal = `statement ${i + 1}`;
    if (b === undefined) {
      const last = current[current.length - 1];
      return {
        what: `${ordinal} was removed`,
        span: last ? { start: last.start, end: lineEndOf(source, last.start, last.end) } : whole,
        stmt: last,
      };
    }
    return {
      what: a === undefined ? `${ordinal} was added` : `${ordinal} differs`,
      span: { start: b.start, end: lineEndOf(source, b.start, b.end) },
      stmt: b,
    };
  }
  return undefined;
}

/**
 * A statement's parse tree without its positions, as a comparable string; a
 * PL/pgSQL or SQL body (DO, CREATE FUNCTION) in canonical text (parse/body-text.ts).
 */
function treeKey(stmt: Statement): string {
  const node = withCanonicalBodies(stmt.node as unknown as Record<string, unknown>);
  return JSON.stringify(node, (key, value) => (key === "location" ? undefined : value));
}

function lineEndOf(source: SourceText, start: number, limit = source.bytes.length): number {
  const nl = source.bytes.indexOf(0x0a, start);
  return Math.min(limit, nl < 0 ? source.bytes.length : nl);
}
