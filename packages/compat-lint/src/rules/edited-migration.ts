import type { Rule } from "./rule.js";

/**
 * Reported by the linter itself with `--since <ref>`: a migration file that
 * existed at the ref and whose statements changed since. Migrators record a
 * migration by name once it ran (node-pg-migrate's pgmigrations table), so
 * an edit never reaches a database that already ran the file: production
 * and a fresh database silently diverge. Whitespace and comment edits do
 * not count (the statements are compared as parse trees, without positions;
 * a PL/pgSQL or SQL body in canonical text, see body-text.ts).
 */
export const editedMigration: Rule = {
  id: "edited-migration",
  category: "contract",
  defaultSeverity: "error",
  summary:
    "A migration that already existed at the `--since` ref was edited: databases that ran it never run the edit.",
  hint: "Leave the old migration as it was and put the change in a new migration file; if the edit only makes the file run on fresh databases (the same effect on databases that ran it), say so with `-- compat: breaking (reason: ...)`.",
  kinds: [],
  check() {
    return [];
  },
};
