import type { Rule } from "./rule.js";

/**
 * Reported by the linter itself while reading a file's comments: a breaking
 * marker without a reason, a malformed marker, or an ignore comment naming
 * an unknown rule. A typo must never silently disable the gate.
 */
export const invalidDirective: Rule = {
  id: "invalid-directive",
  category: "directive",
  defaultSeverity: "error",
  summary: "A malformed `-- compat:` marker or `-- compat-lint` ignore comment.",
  hint: "Write `-- compat: breaking (reason: <why it is safe>)` or `-- compat-lint ignore <rule-id>`; rule ids are listed in docs/compat-lint/README.md.",
  kinds: [],
  check() {
    return [];
  },
};
