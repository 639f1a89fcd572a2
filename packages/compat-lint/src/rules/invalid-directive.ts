import type { FileFinding, Rule } from "./rule.js";

/**
 * A breaking marker without a reason, a malformed marker, or an ignore
 * comment naming an unknown rule, in a file of the change set (the engine
 * reads the comments once, parse/migration-file.ts, and hands over the
 * malformed ones). A typo must never silently disable the gate, so nothing
 * can ignore these findings.
 */
export const invalidDirective: Rule = {
  id: "invalid-directive",
  category: "directive",
  defaultSeverity: "error",
  summary: "A malformed `-- compat:` marker or `-- compat-lint` ignore comment.",
  hint: "Write `-- compat: breaking (reason: <why it is safe>)` or `-- compat-lint ignore <rule-id>`; rule ids are listed in docs/compat-lint/README.md.",
  kinds: [],
  checkFile({ inChangeSet, directives, source }) {
    if (!inChangeSet) return [];
    return directives.problems.map(
      (p): FileFinding => ({
        message: p.message,
        span: { start: source.byteOffsetOfIndex(p.index), end: source.byteOffsetOfIndex(p.end) },
      }),
    );
  },
};
