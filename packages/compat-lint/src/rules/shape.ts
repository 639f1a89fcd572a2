/**
 * Where a finding about a named column or constraint points: the first place
 * in the statement's text that matches a keyword shape around the name, such
 * as `alter [column] $ set not null`.
 *
 * Each shape means exactly one case-insensitive regular expression (regExpSource):
 * words are separated by `\s+`, `[if exists]` is an optional group
 * `(?:if\s+exists\s+)?`, `{add|set}` is `(?:add|set)`, and `$` is the name as
 * written, quoted or not: `(?:"name"|name)`. It used to be compiled as that
 * RegExp per name, and since nearly every finding names another column, nearly
 * every ctx.find() call compiled a new one (V8 compiles a pattern on its first
 * exec and again to machine code on its second): ~20-30 ms of a ~370 ms run on
 * the real-world corpus. Here the shape is parsed once and matched in plain JS
 * with the regular expression's own semantics (leftmost match; greedy `\s+`
 * and optional groups, backtracking in the same order; ASCII case folding), so
 * every span stays byte-identical. A name with a non-ASCII character takes the
 * RegExp itself, whose case folding for those is Unicode's
 * (test/shape.test.ts checks both against the RegExp on every corpus file).
 */

/** What ctx.find() accepts: a RegExp, or anything with the same exec() result shape. */
export interface Finder {
  exec(text: string): { index: number; 0: string } | null;
}

type Token =
  | { kind: "word"; words: readonly string[] } // one word, or {a|b} alternatives, lower case
  | { kind: "optional"; words: readonly string[] } // [a b]: a\s+b\s+, all or nothing
  | { kind: "name" };

interface Compiled {
  tokens: readonly Token[];
  /** The regular expression's source with the name's place as "\0". */
  source: string;
}

const compiled = new Map<string, Compiled>();

function compile(shape: string): Compiled {
  let c = compiled.get(shape);
  if (c !== undefined) return c;
  const tokens: Token[] = [];
  const parts = shape.match(/\[[^\]]*\]|\{[^}]*\}|\S+/g) ?? [];
  let source = "";
  for (const part of parts) {
    if (source !== "" && tokens[tokens.length - 1]!.kind !== "optional") source += "\\s+";
    if (part === "$") {
      tokens.push({ kind: "name" });
      source += "\0";
    } else if (part.startsWith("[")) {
      const words = part.slice(1, -1).split(" ");
      tokens.push({ kind: "optional", words: words.map(word) });
      source += `(?:${words.map((w) => `${w}\\s+`).join("")})?`;
    } else if (part.startsWith("{")) {
      const words = part.slice(1, -1).split("|");
      tokens.push({ kind: "word", words: words.map(word) });
      source += `(?:${words.join("|")})`;
    } else {
      tokens.push({ kind: "word", words: [word(part)] });
      source += part;
    }
  }
  if (tokens.length === 0 || tokens[tokens.length - 1]!.kind === "optional")
    throw new Error(`compat-lint: bad shape "${shape}"`);
  c = { tokens, source };
  compiled.set(shape, c);
  return c;
}

function word(w: string): string {
  if (!/^[a-z]+$/.test(w)) throw new Error(`compat-lint: a shape's words are lower-case letters, got "${w}"`);
  return w;
}

/** The regular expression a shape means for a name, as a source for `new RegExp(source, "i")`. */
export function regExpSource(shape: string, name: string): string {
  return compile(shape).source.replace("\0", () => ident(name));
}

/** A regex that matches an identifier as written, quoted or not. */
function ident(name: string): string {
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return `(?:"${esc.replace(/"/g, '""')}"|${esc})`;
}

const fallbacks = new Map<string, RegExp>();

/** The finder for a shape around a name (see the top of this file). */
export function shape(shape: string, name: string): Finder {
  const c = compile(shape);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the test is for any non-ASCII character
  if (/[^\x00-\x7f]/.test(name)) {
    const source = regExpSource(shape, name);
    let re = fallbacks.get(source);
    if (re === undefined) {
      if (fallbacks.size >= 256) fallbacks.clear();
      re = new RegExp(source, "i");
      fallbacks.set(source, re);
    }
    return re;
  }
  const quoted = `"${name.replace(/"/g, '""')}"`;
  return {
    exec(text) {
      for (let i = 0; i < text.length; i++) {
        const end = matchAt(c.tokens, 0, text, i, name, quoted);
        if (end >= 0) return { index: i, 0: text.slice(i, end) };
      }
      return null;
    },
  };
}

/** The end of the match of tokens[t..] at text[at..], or -1; in the order a backtracking RegExp tries. */
function matchAt(
  tokens: readonly Token[],
  t: number,
  text: string,
  at: number,
  name: string,
  quoted: string,
): number {
  const token = tokens[t]!;
  const last = t === tokens.length - 1;
  if (token.kind === "optional") {
    // Greedy: the group first, then without it.
    const end = matchWords(token.words, 0, tokens, t, text, at, name, quoted);
    return end >= 0 ? end : matchAt(tokens, t + 1, text, at, name, quoted);
  }
  // Called at every offset of a statement's text: no array or iterator is allocated per call
  // (the CLI runs without TurboFan, which would have optimized them away).
  if (token.kind === "name") {
    const end = matchAlternative(tokens, t, last, text, at, name, quoted, quoted);
    return end >= 0 ? end : matchAlternative(tokens, t, last, text, at, name, quoted, name);
  }
  const words = token.words;
  for (let i = 0; i < words.length; i++) {
    const end = matchAlternative(tokens, t, last, text, at, name, quoted, words[i]!);
    if (end >= 0) return end;
  }
  return -1;
}

/** The end of the match of tokens[t..] at text[at..] taking alt for tokens[t], or -1. */
function matchAlternative(
  tokens: readonly Token[],
  t: number,
  last: boolean,
  text: string,
  at: number,
  name: string,
  quoted: string,
  alt: string,
): number {
  if (!startsWithFolded(text, at, alt)) return -1;
  const after = at + alt.length;
  if (last) return after;
  // afterSpaces() with matchAt() as its rest, written out: no closure per call.
  let run = after;
  while (run < text.length && isSpace(text.charCodeAt(run))) run++;
  for (let p = run; p > after; p--) {
    const end = matchAt(tokens, t + 1, text, p, name, quoted);
    if (end >= 0) return end;
  }
  return -1;
}

/** An optional group's words from words[w], each with its \s+, then the tokens after the group. */
function matchWords(
  words: readonly string[],
  w: number,
  tokens: readonly Token[],
  t: number,
  text: string,
  at: number,
  name: string,
  quoted: string,
): number {
  if (w === words.length) return matchAt(tokens, t + 1, text, at, name, quoted);
  const word = words[w]!;
  if (!startsWithFolded(text, at, word)) return -1;
  return afterSpaces(text, at + word.length, (p) =>
    matchWords(words, w + 1, tokens, t, text, p, name, quoted),
  );
}

/** `\s+` at text[at..], greedy: the longest run first, then shorter ones, until rest() matches. */
function afterSpaces(text: string, at: number, rest: (at: number) => number): number {
  let run = at;
  while (run < text.length && isSpace(text.charCodeAt(run))) run++;
  for (let p = run; p > at; p--) {
    const end = rest(p);
    if (end >= 0) return end;
  }
  return -1;
}

/** Whether text[at..] starts with the ASCII string s, ignoring ASCII letter case (as RegExp's i flag does for ASCII). */
function startsWithFolded(text: string, at: number, s: string): boolean {
  if (at + s.length > text.length) return false;
  for (let k = 0; k < s.length; k++) {
    let a = text.charCodeAt(at + k);
    let b = s.charCodeAt(k);
    if (a === b) continue;
    if (a >= 0x41 && a <= 0x5a) a += 0x20;
    if (b >= 0x41 && b <= 0x5a) b += 0x20;
    if (a !== b || a < 0x61 || a > 0x7a) return false;
  }
  return true;
}

/** RegExp's \s: WhiteSpace and LineTerminator of ECMAScript. */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}
