import type { Node } from "libpg-query";
import { display, doBlock, type QualifiedName, qualified, strings } from "../parse/ast.js";
import type { Finding, Rule } from "./rule.js";

const opaque: Record<string, string> = {
  DoStmt: "a DO block",
  ExecuteStmt: "EXECUTE of a prepared statement",
  CallStmt: "a procedure CALL",
};

/**
 * A PL/pgSQL EXECUTE statement (dynamic SQL) in a DO block's body: EXECUTE at
 * the start of a statement. Only the message's wording depends on it.
 */
const dynamicExecute = /(?:^|;|\bBEGIN|\bTHEN|\bELSE|\bLOOP|>>)\s*EXECUTE\b/i;

/** Every function a statement calls, by name, in order. */
function calledFunctions(node: unknown, out: QualifiedName[] = []): QualifiedName[] {
  if (Array.isArray(node)) {
    for (const n of node) calledFunctions(n, out);
  } else if (node && typeof node === "object") {
    const call = (node as { FuncCall?: { funcname?: Node[] } }).FuncCall;
    if (call) out.push(qualified(strings(call.funcname)));
    for (const v of Object.values(node)) calledFunctions(v, out);
  }
  return out;
}

export const unverifiableStatement: Rule = {
  id: "unverifiable-statement",
  category: "unverifiable",
  defaultSeverity: "error",
  summary:
    "A statement whose effect on the schema cannot be seen statically (DO blocks, EXECUTE, CALL, a SELECT of a function the migrations created).",
  hint: "Write the DDL as plain statements so it can be checked; if it must stay dynamic, review it by hand and add `-- compat-lint ignore unverifiable-statement` above it.",
  kinds: [...Object.keys(opaque), "SelectStmt"],
  check(ctx) {
    let what = opaque[ctx.stmt.kind];
    if (ctx.stmt.kind === "DoStmt") {
      const { code, language } = doBlock(ctx.stmt.body);
      if (language === "plpgsql" && code !== undefined && dynamicExecute.test(code))
        what = "a DO block running dynamic SQL (PL/pgSQL EXECUTE)";
    }
    if (what)
      return [{ message: `${what} cannot be checked: compat-lint cannot see which schema changes it makes` }];
    if (ctx.stmt.kind !== "SelectStmt") return [];
    // `SELECT f()` of a function a migration created is a CALL by another name (the usual way
    // around DO): its body may run any DDL. Built-in and extension functions are not in the model.
    const out: Finding[] = [];
    for (const q of calledFunctions(ctx.stmt.body)) {
      const f = ctx.schema.func(q.schema, q.name);
      if (!f) continue;
      out.push({
        message: `a SELECT calling ${display(q)}(), a function created by ${f.origin.file}, cannot be checked: compat-lint cannot see which schema changes its body makes`,
      });
      break;
    }
    return out;
  },
};
