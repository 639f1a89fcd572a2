import { loadPgNative, nativePackage, parseUtf8Native, pgNativeVersion } from "./pg-native.js";
import { loadPgWasm, parseUtf8, type WasmParseResult } from "./pg-wasm.js";

/**
 * Which libpg_query build parses: the native addon when it is installed (an
 * optional dependency, src/parse/pg-native.ts), else the WASM build that
 * always is (src/parse/pg-wasm.ts). Both are Postgres 17's grammar and give
 * the same parse trees (test/parser-backends.test.ts), so the choice changes
 * speed, never findings. The WASM module is only loaded when it is the one
 * used: its glue and instantiation cost ~70 ms a native run does not pay.
 *
 * COMPAT_LINT_PARSER forces one: `native` (an error when it cannot load),
 * `wasm`, or `auto` (the default: native if it loads).
 */
export type ParserBackend = "native" | "wasm";

export const parserEnvVar = "COMPAT_LINT_PARSER";

/** A COMPAT_LINT_PARSER setting that cannot be honoured: a usage error, not a crash. */
export class ParserChoiceError extends Error {}

let loading: Promise<ParserBackend> | undefined;
let chosen: ParserBackend | undefined;

/** COMPAT_LINT_PARSER, checked: "auto" when unset or empty. */
export function requestedParser(): "auto" | ParserBackend {
  const raw = process.env[parserEnvVar]?.trim().toLowerCase() ?? "";
  if (raw === "") return "auto";
  if (raw === "auto" || raw === "native" || raw === "wasm") return raw;
  throw new ParserChoiceError(
    `${parserEnvVar} must be auto, native or wasm, got "${process.env[parserEnvVar]}"`,
  );
}

/** Loads the parser once (native first, unless told otherwise); every call returns the same promise. */
export function loadParser(): Promise<ParserBackend> {
  loading ??= (async () => {
    const want = requestedParser();
    if (want !== "wasm") {
      try {
        loadPgNative();
        chosen = "native";
        return chosen;
      } catch (err) {
        if (want === "native")
          throw new ParserChoiceError(
            `${parserEnvVar}=native, but the native parser (optional dependency ${nativePackage}) ` +
              `does not load: ${firstLine(err)}. Unset ${parserEnvVar} ` +
              "(or set it to auto or wasm) to use the WASM parser.",
          );
      }
    }
    await loadPgWasm();
    chosen = "wasm";
    return chosen;
  })();
  return loading;
}

/** The parser in use, once loadParser() has resolved. */
export function parserInUse(): ParserBackend | undefined {
  return chosen;
}

/** One line naming the parser in use, for `compat-lint --debug`. */
export function parserDescription(): string {
  if (chosen === "native") return `native libpg_query (${nativePackage} ${pgNativeVersion() ?? "?"})`;
  if (chosen === "wasm") return "WASM libpg_query (libpg-query)";
  return "not loaded";
}

/**
 * Parses UTF-8 SQL (no NUL bytes) with the parser in use, with anything the
 * parser throws (a WASM trap, e.g. its stack on absurdly deep nesting) turned
 * into an error at the start of the input. `text`, when given, is exactly the UTF-8 decoding of
 * `sql` (the native addon takes a string; the WASM binding the bytes).
 */
export function parseUtf8Safe(sql: Uint8Array, text?: string): WasmParseResult {
  try {
    if (chosen === "native") return parseUtf8Native(sql, text);
    return parseUtf8(sql);
  } catch (err) {
    return { ok: false, error: { message: String((err as Error)?.message ?? err), cursorPosition: 0 } };
  }
}

/** An error's first line (Node's "Cannot find module" appends its require stack). */
function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n", 1)[0]!;
}
