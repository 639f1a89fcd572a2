import { CutoverError } from "./errors.js";

/** Default upper bound on one serialized payload (1 MiB). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

// JSON.stringify escapes lone surrogates and NUL as \uXXXX; Postgres' jsonb
// rejects both, and a rejected statement would abort the caller's transaction.
// An escape is real when preceded by an even number of backslashes.
const UNSTORABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:[dD][89a-fA-F][0-9a-fA-F]{2}|0000)/;

/**
 * Serializes a value for a jsonb column, refusing (with a typed error naming
 * the topic and field) anything Postgres would reject or that would not
 * round-trip: BigInt, cycles, lone surrogates, NUL characters, oversize.
 */
export function serializeJson(
  value: unknown,
  ctx: { topic: string; field: "payload" | "headers"; index?: number | undefined; maxBytes: number },
): string {
  // Built only for an error: serializeJson runs once per published event.
  const where = () =>
    `${ctx.field} of topic "${ctx.topic}"${ctx.index === undefined ? "" : ` (batch item ${ctx.index})`}`;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new CutoverError(
      "PAYLOAD_NOT_SERIALIZABLE",
      `${where()} is not JSON-serializable: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err, details: { topic: ctx.topic, field: ctx.field, index: ctx.index } },
    );
  }
  if (text === undefined) {
    throw new CutoverError(
      "PAYLOAD_NOT_SERIALIZABLE",
      `${where()} is not JSON-serializable (got ${typeof value})`,
      {
        details: { topic: ctx.topic, field: ctx.field, index: ctx.index },
      },
    );
  }
  if (text.includes("\\u") && UNSTORABLE_ESCAPE.test(text)) {
    throw new CutoverError(
      "PAYLOAD_NOT_SERIALIZABLE",
      `${where()} contains a lone UTF-16 surrogate or a NUL character, which PostgreSQL jsonb cannot store`,
      { details: { topic: ctx.topic, field: ctx.field, index: ctx.index } },
    );
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes: count them only when that bound exceeds the limit.
  const bytes = text.length * 3 > ctx.maxBytes ? Buffer.byteLength(text, "utf8") : 0;
  if (bytes > ctx.maxBytes) {
    throw new CutoverError(
      "PAYLOAD_TOO_LARGE",
      `${where()} is ${bytes} bytes serialized; the limit is ${ctx.maxBytes} (maxPayloadBytes)`,
      { details: { topic: ctx.topic, field: ctx.field, index: ctx.index, bytes, limit: ctx.maxBytes } },
    );
  }
  return text;
}

/**
 * Serializes many payloads as one JSON array text, `[p0,p1,...]`, with the
 * same refusals as serializeJson per payload. One JSON.stringify of the whole
 * array instead of one per payload and a join (PROFILE.md section 8: half the
 * Node CPU of serializing a 1,000-event batch). When the array as a whole could
 * hold a refusal (it does not serialize, has an unstorable escape, or could
 * exceed `maxBytes` per payload), or a payload would serialize differently as
 * an array element than alone (undefined, a function or symbol, a toJSON
 * method), every payload is serialized on its own, so the error names the
 * batch item exactly as serializeJson does.
 */
export function serializeJsonArray(
  values: readonly unknown[],
  topics: readonly string[],
  ctx: { batch: boolean; maxBytes: number },
): string {
  let whole = true;
  for (const v of values) {
    const t = typeof v;
    if (
      t === "undefined" ||
      t === "function" ||
      t === "symbol" ||
      (t === "object" && v !== null && typeof (v as { toJSON?: unknown }).toJSON === "function")
    ) {
      whole = false;
      break;
    }
  }
  if (whole) {
    let text: string | undefined;
    try {
      text = JSON.stringify(values);
    } catch {
      text = undefined;
    }
    // Each payload is shorter than the array: 3 bytes per code unit bounds all of them.
    if (
      text !== undefined &&
      text.length * 3 <= ctx.maxBytes &&
      !(text.includes("\\u") && UNSTORABLE_ESCAPE.test(text))
    ) {
      return text;
    }
  }
  const parts = values.map((value, i) =>
    serializeJson(value, {
      topic: topics[i]!,
      field: "payload",
      index: ctx.batch ? i : undefined,
      maxBytes: ctx.maxBytes,
    }),
  );
  return `[${parts.join(",")}]`;
}
