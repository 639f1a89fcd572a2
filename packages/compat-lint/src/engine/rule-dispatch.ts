import type { AlterTableCmd, AlterTableStmt } from "libpg-query";
import { nodeOf } from "../parse/ast.js";
import type { Statement } from "../parse/parser.js";
import { rules } from "../rules/index.js";
import type { Rule } from "../rules/rule.js";

/**
 * Which rules to call for a statement. Most statements concern a handful of
 * the rules (an ALTER TABLE ... DROP COLUMN two of them), so the linter
 * dispatches on the statement's kind, and for ALTER TABLE on its command's
 * subtype (Rule.kinds), instead of calling every rule for every statement.
 * Built per lintSources() call; the lists keep the rules' report order.
 */
export class RuleDispatch {
  private readonly byKey = new Map<string, readonly Rule[]>();

  for(stmt: Statement): readonly Rule[] {
    let key = stmt.kind;
    if (key === "AlterTableStmt") {
      const cmds = (stmt.body as AlterTableStmt).cmds;
      const sub = cmds?.length === 1 ? nodeOf<AlterTableCmd>(cmds[0], "AlterTableCmd")?.subtype : undefined;
      if (sub !== undefined) key = `AlterTableStmt.${sub}`;
    }
    let list = this.byKey.get(key);
    if (list === undefined) {
      const kind = stmt.kind;
      list = rules.filter(
        (r) =>
          r.check !== undefined && (r.kinds === undefined || r.kinds.includes(kind) || r.kinds.includes(key)),
      );
      this.byKey.set(key, list);
    }
    return list;
  }
}

/** The rules with a whole-file check (Rule.checkFile), in the rule list's order. */
export const fileRules: readonly Rule[] = rules.filter((r) => r.checkFile !== undefined);

/** ALTER TABLE with several commands is judged command by command, each against the schema the previous left. */
export function splitAlterTable(stmt: Statement): Statement[] {
  if (stmt.kind !== "AlterTableStmt") return [stmt];
  const a = stmt.body as AlterTableStmt;
  const cmds = a.cmds ?? [];
  if (cmds.length <= 1) return [stmt];
  return cmds.map((cmd) => {
    const body = { ...a, cmds: [cmd] };
    return { ...stmt, body: body as Record<string, unknown>, node: { AlterTableStmt: body } };
  });
}
