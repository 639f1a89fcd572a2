import { doBlock } from "./ast.js";

/**
 * edited-migration compares parse trees, but a DO block's or a function's
 * body is one string in the tree: re-indenting a drizzle DO block would count
 * as an edit. For PL/pgSQL and SQL bodies (where whitespace between tokens
 * and comments mean nothing) the body is compared in a canonical text:
 * comments removed, each run of whitespace one space, and none next to
 * `( ) [ ] , ;`. String literals, quoted identifiers and nested dollar-quoted
 * strings are kept as written, so a change inside them still counts; so does
 * `a=b` against `a = b` (kept apart to stay on the safe side: `@-` and `@ -`
 * are different operators). Other languages (plpython's indentation) are
 * compared as written.
 */

const tight = new Set(["(", ")", "[", "]", ",", ";"]);
const word = /[A-Za-z0-9_$\u0080-\uffff]/;

/** The canonical text of a PL/pgSQL or SQL body, or undefined when it cannot be read safely (compare as written). */
export function canonicalBody(code: string): string | undefined {
  let out = "";
  let space = false;
  const emit = (text: string) => {
    if (space && out !== "" && !tight.has(out[out.length - 1]!) && !tight.has(text[0]!)) out += " ";
    space = false;
    out += text;
  };
  let i = 0;
  const n = code.length;
  while (i < n) {
    const c = code[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
      space = true;
      i++;
    } else if (c === "-" && code[i + 1] === "-") {
      const nl = code.indexOf("\n", i);
      i = nl < 0 ? n : nl + 1;
      space = true;
    } else if (c === "/" && code[i + 1] === "*") {
      // Block comments nest in Postgres.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (code[i] === "/" && code[i + 1] === "*") {
          depth++;
          i += 2;
        } else if (code[i] === "*" && code[i + 1] === "/") {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) return undefined;
      space = true;
    } else if (c === "'" || c === '"') {
      // E'...' takes backslash escapes; '' and "" double the quote.
      const prev = out[out.length - 1];
      const escapes =
        c === "'" && !space && (prev === "E" || prev === "e") && !word.test(out[out.length - 2] ?? "");
      let j = i + 1;
      for (;;) {
        if (j >= n) return undefined;
        if (escapes && code[j] === "\\") j += 2;
        else if (code[j] === c && code[j + 1] === c) j += 2;
        else if (code[j] === c) break;
        else j++;
      }
      emit(code.slice(i, j + 1));
      i = j + 1;
    } else if (c === "$" && (space || !word.test(out[out.length - 1] ?? ""))) {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z_0-9\u0080-\uffff]*)?\$/.exec(code.slice(i, i + 64));
      if (!tag) {
        emit(c);
        i++;
        continue;
      }
      const end = code.indexOf(tag[0], i + tag[0].length);
      if (end < 0) return undefined;
      emit(code.slice(i, end + tag[0].length));
      i = end + tag[0].length;
    } else {
      let j = i + 1;
      while (j < n && word.test(code[j]!) && word.test(c)) j++;
      emit(code.slice(i, j));
      i = j;
    }
  }
  return out;
}

interface DefElem {
  DefElem?: { defname?: string; arg?: unknown };
}

const sval = (n: unknown) => (n as { String?: { sval?: string } } | undefined)?.String?.sval;

/**
 * A copy of a statement's parse tree in which a DO block's or a CREATE
 * FUNCTION / PROCEDURE's PL/pgSQL or SQL body is in canonical text; the tree
 * itself when it has none.
 */
export function withCanonicalBodies(node: Record<string, unknown>): Record<string, unknown> {
  const kind = Object.keys(node)[0];
  if (kind === "DoStmt") {
    const b = node.DoStmt as { args?: DefElem[] };
    if (doBlock(b).language !== "plpgsql") return node;
    const mapped = (b.args ?? []).map((a) => {
      const code = a.DefElem?.defname === "as" ? sval(a.DefElem.arg) : undefined;
      const canon = code === undefined ? undefined : canonicalBody(code);
      return canon === undefined ? a : { DefElem: { ...a.DefElem, arg: { String: { sval: canon } } } };
    });
    return { DoStmt: { ...b, args: mapped } };
  }
  if (kind === "CreateFunctionStmt") {
    const b = node.CreateFunctionStmt as { options?: DefElem[] };
    const options = b.options ?? [];
    const lang = sval(options.find((o) => o.DefElem?.defname === "language")?.DefElem?.arg)?.toLowerCase();
    if (lang !== "plpgsql" && lang !== "sql") return node;
    const mapped = options.map((o) => {
      if (o.DefElem?.defname !== "as") return o;
      const list = (o.DefElem.arg as { List?: { items?: unknown[] } } | undefined)?.List;
      if (list?.items?.length !== 1) return o;
      const code = sval(list.items[0]);
      const canon = code === undefined ? undefined : canonicalBody(code);
      if (canon === undefined) return o;
      return { DefElem: { ...o.DefElem, arg: { List: { ...list, items: [{ String: { sval: canon } }] } } } };
    });
    return { CreateFunctionStmt: { ...b, options: mapped } };
  }
  return node;
}
