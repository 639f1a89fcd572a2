/**
 * Finds SQL line comments (`-- ...`) the way the Postgres scanner would: a
 * `--` inside a string, a quoted identifier, a dollar-quoted body or a block
 * comment is not a comment. Directives (the breaking marker, ignore comments)
 * are read from here, so text inside a function body never counts as one.
 */
export interface LineComment {
  /** UTF-16 index of the first `-`. */
  index: number;
  /** UTF-16 index just past the comment (before the line break). */
  end: number;
  /** The comment's text after `--`. */
  body: string;
}

// The characters that can start a comment, a string, a quoted identifier or a dollar quote.
const special = /[-/'"$]/g;

export function lineComments(text: string): LineComment[] {
  const out: LineComment[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    // Jump to the next special character natively instead of stepping through the rest.
    special.lastIndex = i;
    const next = special.exec(text);
    if (next === null) break;
    i = next.index;
    const c = text[i]!;
    if (c === "-" && text[i + 1] === "-") {
      let end = text.indexOf("\n", i);
      if (end < 0) end = n;
      // Without a trailing CR (CRLF files), sliced directly rather than by a regex replace.
      out.push({ index: i, end, body: text.slice(i + 2, text.charCodeAt(end - 1) === 13 ? end - 1 : end) });
      i = end;
    } else if (c === "/" && text[i + 1] === "*") {
      // Block comments nest in Postgres.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text[i] === "/" && text[i + 1] === "*") {
          depth++;
          i += 2;
        } else if (text[i] === "*" && text[i + 1] === "/") {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(text[i - 1]!) && !/[\w$]/.test(text[i - 2] ?? "");
      i++;
      while (i < n) {
        if (escapes && text[i] === "\\") i += 2;
        else if (text[i] === "'") {
          if (text[i + 1] === "'") i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (c === '"') {
      i++;
      while (i < n) {
        if (text[i] === '"') {
          if (text[i + 1] === '"') i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (c === "$" && !/[\w$]/.test(text[i - 1] ?? "")) {
      const m = /^\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(text.slice(i, i + 64));
      if (m) {
        const tag = m[0];
        const close = text.indexOf(tag, i + tag.length);
        i = close < 0 ? n : close + tag.length;
      } else i++;
    } else i++;
  }
  return out;
}
