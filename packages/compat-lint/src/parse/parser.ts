import type { Node } from "libpg-query";
import { loadParser, parserInUse, parseUtf8Safe } from "./backend.js";
import type { WasmParseError, WasmParseResult } from "./pg-wasm.js";
import { indexOfCodePoint, type SourceText } from "./source.js";

/**
 * The Postgres parser (libpg_query, native or compiled to WASM), wrapped so that it never
 * throws: a file either parses into statements with absolute byte ranges, or
 * yields one syntax error with a byte offset. Postgres refuses NUL bytes and
 * invalid UTF-8 before parsing; so does this, with a location.
 */
export interface Statement {
  /** The statement's node type, e.g. "AlterTableStmt". */
  kind: string;
  /** The node body, e.g. the AlterTableStmt object. */
  body: Record<string, unknown>;
  node: Node;
  /** Absolute UTF-8 byte range in the file, comments before it excluded. */
  start: number;
  end: number;
}

export interface SyntaxProblem {
  message: string;
  /** Absolute UTF-8 byte offset. */
  offset: number;
}

export type ParseOutcome = { ok: true; statements: Statement[] } | { ok: false; error: SyntaxProblem };

/**
 * Loads the parser once (native or WASM, src/parse/backend.ts); every other
 * function here needs it first.
 */
export async function initParser(): Promise<void> {
  await loadParser();
}

interface RawStmt {
  stmt?: Node;
  stmt_location?: number;
  stmt_len?: number;
}

/**
 * What parsing a section takes: either the outcome is known without the
 * parser (a NUL byte, nothing but whitespace), or these bytes go to
 * libpg_query. parseRange() does both; they are separate so the raw parse
 * can be timed on its own (tools/bench-compat-lint/phases.mjs).
 */
export type ParseRequest =
  | { done: ParseOutcome }
  | {
      done?: undefined;
      start: number;
      end: number;
      base: number;
      bytes: Buffer;
      /**
       * The same SQL as a string, when the source already holds it exactly (an all-ASCII file
       * parsed whole): the native addon takes strings, and need not decode the bytes again.
       */
      text: string | undefined;
    };

/** The parse request for the UTF-16 range [start, end) of the source. */
export function parseRequest(source: SourceText, start: number, end: number): ParseRequest {
  const text = source.text;
  const base = source.byteOffsetOfIndex(start);
  const nul = text.indexOf("\u0000", start);
  if (nul >= 0 && nul < end) {
    return {
      done: {
        ok: false,
        error: {
          message: "file contains a NUL byte (binary file?)",
          offset: base + Buffer.byteLength(text.slice(start, nul)),
        },
      },
    };
  }
  const whole = start === 0 && end === text.length;
  if (!/\S/.test(whole ? text : text.slice(start, end))) return { done: { ok: true, statements: [] } };
  // The section's bytes are a view into the file's: no second encoding (and no view at all for
  // the usual section, the whole file).
  const bytes = whole ? source.bytes : source.bytes.subarray(base, source.byteOffsetOfIndex(end));
  return { start, end, base, bytes, text: whole && source.isAscii ? text : undefined };
}

/**
 * Parses the UTF-16 range [start, end) of the source. Byte offsets in the
 * result are absolute (relative to the start of the file).
 */
export function parseRange(source: SourceText, start: number, end: number): ParseOutcome {
  if (parserInUse() === undefined)
    throw new Error("compat-lint: initParser() must be awaited before parsing");
  const request = parseRequest(source, start, end);
  if (request.done) return request.done;
  return finishParse(source, request, parseUtf8Safe(request.bytes, request.text));
}

/** Turns libpg_query's raw result for a request into statements with absolute byte ranges. */
export function finishParse(
  source: SourceText,
  request: Exclude<ParseRequest, { done: ParseOutcome }>,
  raw: WasmParseResult,
): ParseOutcome {
  const { start, end, base, bytes: sectionBytes } = request;
  let result: { stmts?: RawStmt[] } | undefined;
  let failure: WasmParseError | undefined;
  if (raw.ok) {
    try {
      result = JSON.parse(raw.json) as { stmts?: RawStmt[] };
    } catch (err) {
      failure = { message: String((err as Error)?.message ?? err), cursorPosition: 0 };
    }
  } else failure = raw.error;
  if (failure !== undefined || result === undefined) {
    const sql = source.text.slice(start, end);
    // Postgres reports the error cursor in characters (code points).
    const index = indexOfCodePoint(sql, failure?.cursorPosition ?? 0);
    return {
      ok: false,
      error: {
        message: (failure?.message ?? "no parse result").replace(/\s+/g, " "),
        offset: base + Buffer.byteLength(sql.slice(0, index)),
      },
    };
  }
  const statements: Statement[] = [];
  for (const raw of result.stmts ?? []) {
    if (!raw.stmt) continue;
    const loc = raw.stmt_location ?? 0;
    const len = raw.stmt_len && raw.stmt_len > 0 ? raw.stmt_len : sectionBytes.length - loc;
    const s = skipTrivia(sectionBytes, loc, loc + len);
    let kind = "";
    for (const k in raw.stmt) {
      kind = k;
      break;
    }
    const body = (raw.stmt as unknown as Record<string, Record<string, unknown>>)[kind]!;
    statements.push({
      kind,
      body,
      node: raw.stmt,
      start: base + s,
      end: base + trimEnd(sectionBytes, s, loc + len),
    });
  }
  return { ok: true, statements };
}

/** Skips whitespace and comments (ASCII-only syntax, so bytes are enough). */
function skipTrivia(b: Buffer, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const c = b[i]!;
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c) i++;
    else if (c === 0x2d && b[i + 1] === 0x2d) {
      // A line comment runs to the line break; find it natively.
      const nl = b.indexOf(0x0a, i);
      i = nl < 0 || nl > to ? to : nl;
    } else if (c === 0x2f && b[i + 1] === 0x2a) {
      let depth = 1;
      i += 2;
      while (i < to && depth > 0) {
        if (b[i] === 0x2f && b[i + 1] === 0x2a) {
          depth++;
          i += 2;
        } else if (b[i] === 0x2a && b[i + 1] === 0x2f) {
          depth--;
          i += 2;
        } else i++;
      }
    } else break;
  }
  return i;
}

function trimEnd(b: Buffer, from: number, to: number): number {
  let i = Math.min(to, b.length);
  while (i > from && (b[i - 1] === 0x20 || b[i - 1] === 0x0a || b[i - 1] === 0x0d || b[i - 1] === 0x09)) i--;
  return i;
}
