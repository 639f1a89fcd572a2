import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * A direct binding to libpg-query's WASM build (libpg_query compiled with
 * emscripten), used instead of the package's `parseSync` wrapper.
 *
 * Why: the wrapper takes a JS string, so every file was UTF-8-encoded by a
 * JS loop (emscripten's stringToUTF8, twice counting lengthBytesUTF8) and the
 * JSON result scanned for its NUL terminator byte by byte in JS before being
 * decoded. The linter already holds each file's UTF-8 bytes; here they are
 * copied into WASM memory as they are, and the result is located with the
 * native `indexOf` and decoded with Buffer's native UTF-8 decoder. On the
 * 2,000-file benchmark that is most of the parse's JS overhead
 * (tools/bench-compat-lint/RESULTS.md).
 *
 * It relies on two things libpg-query does not document as public API: the
 * emscripten module at `libpg-query/wasm/libpg-query.js` and the layout of
 * libpg_query's `PgQueryParseResult` / `PgQueryError` structs (the same C API
 * the wrapper reads). The dependency is pinned to an exact version for that
 * reason, and test/pg-wasm.test.ts checks this binding against the package's
 * own `parseSync` on the whole test corpus.
 */
interface EmscriptenModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _wasm_parse_query_raw(queryPtr: number): number;
  _wasm_free_parse_result(resultPtr: number): void;
}

export interface WasmParseError {
  message: string;
  /** 0-based code-point offset of the error cursor, as libpg-query's wrapper reports it. */
  cursorPosition: number;
}

export type WasmParseResult = { ok: true; json: string } | { ok: false; error: WasmParseError };

let loading: Promise<void> | undefined;
let mod: EmscriptenModule | undefined;

// Node's global WebAssembly, typed here because the project's lib setting has no DOM types.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: object }>;
};

/** Instantiates the WASM module once; every call returns the same promise. */
export function loadPgWasm(): Promise<void> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    const glue = require.resolve("libpg-query/wasm/libpg-query.js");
    const factory = require(glue) as (moduleArg: object) => Promise<EmscriptenModule>;
    const wasm = readFileSync(join(dirname(glue), "libpg-query.wasm"));
    let instantiation: Promise<void> | undefined;
    const ready = factory({
      // Called synchronously inside factory(): compilation starts on V8's background
      // threads right now, instead of after a few promise hops that would wait for
      // whatever synchronous work (reading the migrations) the caller does next.
      instantiateWasm(imports: object, receive: (instance: object) => void) {
        instantiation = WebAssembly.instantiate(wasm, imports).then((r) => receive(r.instance));
        return {};
      },
    });
    // A failed instantiation never calls receive(), so `ready` would never settle: surface its error.
    if (instantiation) await Promise.race([ready, instantiation.then(() => ready)]);
    mod = await ready;
  })();
  return loading;
}

export function pgWasmReady(): boolean {
  return mod !== undefined;
}

/**
 * Parses UTF-8 SQL (without a terminating NUL; it must contain none) into
 * libpg_query's JSON parse tree, or the parser's error.
 */
export function parseUtf8(sql: Uint8Array): WasmParseResult {
  const m = mod;
  if (m === undefined) throw new Error("compat-lint: loadPgWasm() must be awaited before parsing");
  const queryPtr = m._malloc(sql.length + 1);
  if (!queryPtr) throw new Error("compat-lint: out of WASM memory");
  let resultPtr = 0;
  try {
    // HEAPU8 is re-created when the memory grows; read it after every call that may allocate.
    let heap = m.HEAPU8;
    heap.set(sql, queryPtr);
    heap[queryPtr + sql.length] = 0;
    resultPtr = m._wasm_parse_query_raw(queryPtr);
    if (!resultPtr) throw new Error("compat-lint: the parser could not allocate its result");
    heap = m.HEAPU8;
    // struct PgQueryParseResult { char *parse_tree; char *stderr_buffer; PgQueryError *error; }
    const view = new DataView(heap.buffer);
    const treePtr = view.getUint32(resultPtr, true);
    const errorPtr = view.getUint32(resultPtr + 8, true);
    if (errorPtr) {
      // struct PgQueryError { char *message; char *funcname; char *filename; int lineno; int cursorpos; char *context; }
      const messagePtr = view.getUint32(errorPtr, true);
      const cursorpos = view.getInt32(errorPtr + 16, true);
      return {
        ok: false,
        error: {
          message: messagePtr ? cString(heap, messagePtr) : "Unknown error",
          cursorPosition: cursorpos > 0 ? cursorpos - 1 : 0,
        },
      };
    }
    if (!treePtr) throw new Error("compat-lint: the parser returned no result");
    return { ok: true, json: cString(heap, treePtr) };
  } finally {
    m._free(queryPtr);
    if (resultPtr) m._wasm_free_parse_result(resultPtr);
  }
}

function cString(heap: Uint8Array, ptr: number): string {
  let end = heap.indexOf(0, ptr);
  if (end < 0) end = heap.length;
  return Buffer.from(heap.buffer, heap.byteOffset + ptr, end - ptr).toString("utf8");
}
