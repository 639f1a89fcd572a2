import { isUtf8 } from "node:buffer";

/**
 * A file's text: bytes checked for valid UTF-8 (invalidAt: where the first bad sequence
 * starts; the text is then a lossy decode), or text as given.
 */
export function decode(content: Buffer | string): {
  text: string;
  bytes: Buffer | undefined;
  invalidAt: number | undefined;
} {
  if (typeof content === "string") return { text: content, bytes: undefined, invalidAt: undefined };
  // isUtf8 is native (simdutf); the byte-by-byte scan only runs to locate a known problem.
  const invalidAt = isUtf8(content) ? undefined : firstInvalidUtf8(content);
  return { text: content.toString("utf8"), bytes: invalidAt === undefined ? content : undefined, invalidAt };
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence (RFC 3629 table). */
export function firstInvalidUtf8(b: Uint8Array): number | undefined {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (d === undefined || d < min || d > max) return i;
    }
    i += n + 1;
  }
  return undefined;
}
