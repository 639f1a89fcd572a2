import type { Rule } from "./rule.js";

const opaque: Record<string, string> = {
  DoStmt: "a DO block",
  ExecuteStmt: "EXECUTE of a prepared statement",
  CallStmt: "a procedure CALL",
};

export const unverifiableStatement: Rule = {
  id: "unverifiable-statement",
  category: "unverifiable",
  defaultSeverity: "error",
  summary: "A statement whose effect on the schema cannot be seen statically (DO blocks, EXECUTE, CALL).",
  hint: "Write the DDL as plain statements so it can be checked; if it must stay dynamic, review it by hand and add `-- compat-lint ignore unverifiable-statement` above it.",
  kinds: Object.keys(opaque),
  check(ctx) {
    const what = opaque[ctx.stmt.kind];
    if (!what) return [];
    return [{ message: `${what} cannot be checked: compat-lint cannot see which schema changes it makes` }];
  },
};
