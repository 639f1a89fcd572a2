import type { Node } from "libpg-query";
import { loadPgWasm, parseUtf8, pgWasmReady } from "./pg-wasm.js";
import { indexOfCodePoint, type SourceText } from "./source.js";

/**
 * The Postgres parser (libpg_query compiled to WASM), wrapped so that it never
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

/** Loads the WASM module once; every other function here needs it first. */
export async function initParser(): Promise<void> {
  await loadPgWasm();
}

interface RawStmt {
  stmt?: Node;
  stmt_location?: number;
  stmt_len?: number;
}

/**
 * Parses the UTF-16 range [start, end) of the source. Byte offsets in the
 * result are absolute (relative to the start of the file).
 */
export function parseRange(source: SourceText, start: number, end: number): ParseOutcome {
  if (!pgWasmReady()) throw new Error("compat-lint: initParser() must be awaited before parsing");
  const text = source.text;
  const base = source.byteOffsetOfIndex(start);
  const nul = text.indexOf("\u0000", start);
  if (nul >= 0 && nul < end) {
    return {
      ok: false,
      error: {
        message: "file contains a NUL byte (binary file?)",
        offset: base + Buffer.byteLength(text.slice(start, nul)),
      },
    };
  }
  if (!/\S/.test(text.slice(start, end))) return { ok: true, statements: [] };
  // The section's bytes are a view into the file's: no second encoding.
  const sectionBytes = source.bytes.subarray(base, source.byteOffsetOfIndex(end));
  let result: { stmts?: RawStmt[] };
  let failure: { message: string; cursor: number } | undefined;
  try {
    const parsed = parseUtf8(sectionBytes);
    if (parsed.ok) result = JSON.parse(parsed.json) as { stmts?: RawStmt[] };
    else failure = { message: parsed.error.message, cursor: parsed.error.cursorPosition };
  } catch (err) {
    // A WASM trap (e.g. the parser's stack on absurdly deep nesting) is a located error too.
    failure = { message: String((err as Error)?.message ?? err), cursor: 0 };
  }
  if (failure !== undefined) {
    const sql = text.slice(start, end);
    // Postgres reports the error cursor in characters (code points).
    const index = indexOfCodePoint(sql, failure.cursor);
    return {
      ok: false,
      error: {
        message: failure.message.replace(/\s+/g, " "),
        offset: base + Buffer.byteLength(sql.slice(0, index)),
      },
    };
  }
  const statements: Statement[] = [];
  for (const raw of result!.stmts ?? []) {
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
      while (i < to && b[i] !== 0x0a) i++;
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
