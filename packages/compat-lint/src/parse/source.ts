/**
 * A migration file's text with the position arithmetic the linter needs.
 *
 * The Postgres parser reports node locations as UTF-8 byte offsets and syntax
 * errors as code-point offsets; editors and CI annotations want 1-based
 * line:column. Everything in the linter is kept in byte offsets and converted
 * here, once, so a non-ASCII identifier never shifts a caret.
 */
export interface Position {
  /** UTF-8 byte offset into the file. */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column, counted in Unicode code points. */
  column: number;
}

export class SourceText {
  readonly bytes: Buffer;
  private starts: number[] | undefined;

  /** `bytes`, when given, must be exactly the UTF-8 encoding of `text` (saves re-encoding). */
  constructor(
    readonly text: string,
    bytes?: Buffer,
  ) {
    this.bytes = bytes ?? Buffer.from(text, "utf8");
  }

  /**
   * Byte offsets of line starts, computed on first use: most files yield no
   * diagnostic and never need a line number.
   */
  private get lineStarts(): number[] {
    if (this.starts !== undefined) return this.starts;
    const starts = [0];
    if (this.bytes.length === this.text.length) {
      // ASCII: string indices are byte offsets, and String#indexOf stays out of C++.
      for (let nl = this.text.indexOf("\n"); nl >= 0; nl = this.text.indexOf("\n", nl + 1))
        starts.push(nl + 1);
    } else {
      for (let nl = this.bytes.indexOf(0x0a); nl >= 0; nl = this.bytes.indexOf(0x0a, nl + 1))
        starts.push(nl + 1);
    }
    this.starts = starts;
    return starts;
  }

  /** Pure ASCII: every UTF-16 index equals its byte offset. */
  get isAscii(): boolean {
    return this.bytes.length === this.text.length;
  }

  get lineCount(): number {
    return this.lineStarts.length;
  }

  /** The position of a byte offset; offsets past the end clamp to the end. */
  position(offset: number): Position {
    const clamped = Math.max(0, Math.min(offset, this.bytes.length));
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= clamped) lo = mid;
      else hi = mid - 1;
    }
    const lineStart = starts[lo]!;
    if (this.isAscii) return { offset: clamped, line: lo + 1, column: clamped - lineStart + 1 };
    const prefix = this.bytes.subarray(lineStart, clamped).toString("utf8");
    return { offset: clamped, line: lo + 1, column: codePointLength(prefix) + 1 };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1];
    if (start === undefined) return "";
    const next = this.lineStarts[line];
    const end = next === undefined ? this.bytes.length : next - 1;
    return this.slice(start, end).replace(/\r$/, "");
  }

  /** Byte offset of a UTF-16 string index. */
  byteOffsetOfIndex(index: number): number {
    // All-ASCII text (the usual migration) has one byte per UTF-16 unit.
    if (this.bytes.length === this.text.length) return Math.max(0, Math.min(index, this.text.length));
    return Buffer.byteLength(this.text.slice(0, index), "utf8");
  }

  /** The text between two byte offsets. */
  slice(start: number, end: number): string {
    if (this.isAscii) return this.text.slice(start, end);
    return this.bytes.subarray(start, end).toString("utf8");
  }
}

export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is a single code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The UTF-16 index of the n-th code point of s (clamped to s.length). */
export function indexOfCodePoint(s: string, n: number): number {
  let i = 0;
  let count = 0;
  while (i < s.length && count < n) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
    count++;
  }
  return i;
}
