import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { WasmParseResult } from "./pg-wasm.js";

/**
 * The native (N-API) build of libpg_query, an optional dependency: npm
 * installs `libpg-query@17.1.0` under the alias `libpg-query-native`, the
 * last release with a native addon for Postgres 17's grammar (the same
 * grammar as the WASM build in `libpg-query`, the same JSON parse trees:
 * test/parser-backends.test.ts). Its install downloads a prebuilt binary
 * (linux-x64 glibc, darwin-arm64) or builds one; where neither works, npm
 * drops the optional dependency and compat-lint uses the WASM parser.
 *
 * Why: on the real-world corpus the native parse is ~2.4x faster than the WASM
 * one, and the addon loads in ~2.5 ms where the WASM glue and module take
 * ~70 ms (tools/bench-compat-lint/RESULTS-real.md).
 *
 * Only the addon itself is loaded (build/Release/queryparser.node), not the
 * package's index.js, which would load protobufjs for deparsing compat-lint
 * never does. The package's `exports` hide that path, so it is found next to
 * the package's main file.
 */
interface NativeAddon {
  /** Takes a JS string only (the published addon; a Buffer throws "A string was expected"). */
  parseQuerySync(sql: string): string;
}

export const nativePackage = "libpg-query-native";

let addon: NativeAddon | undefined;
let packageDir: string | undefined;

/** Loads the addon once; throws (with the reason) when it is not installed or does not load. */
export function loadPgNative(): void {
  if (addon !== undefined) return;
  const require = createRequire(import.meta.url);
  const dir = findPackage(require);
  const loaded = require(join(dir, "build/Release/queryparser.node")) as Partial<NativeAddon>;
  if (typeof loaded.parseQuerySync !== "function")
    throw new Error(`${nativePackage}'s addon has no parseQuerySync`);
  packageDir = dir;
  addon = loaded as NativeAddon;
}

/**
 * The package's folder: the first node_modules/libpg-query-native on Node's lookup path that
 * has a package.json, which is the folder require.resolve() finds. Looked up directly because
 * require.resolve() also reads the package's manifest and resolves its main file: ~3-10 ms
 * per run on the bench machine, against <1 ms for these few existsSync calls. Not found
 * there, require.resolve() throws Node's usual "Cannot find module" error.
 */
function findPackage(require: NodeJS.Require): string {
  for (const base of require.resolve.paths(nativePackage) ?? []) {
    const dir = join(base, nativePackage);
    if (existsSync(join(dir, "package.json"))) return dir;
  }
  return dirname(require.resolve(nativePackage));
}

/** The installed native package's version, once loaded (read when asked: only --debug shows it). */
export function pgNativeVersion(): string | undefined {
  if (packageDir === undefined) return undefined;
  try {
    return (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version?: string })
      .version;
  } catch {
    return undefined;
  }
}

/**
 * Parses UTF-8 SQL into libpg_query's JSON parse tree, or the parser's error,
 * in the same shape as the WASM binding's parseUtf8. `text`, when given, is exactly the UTF-8
 * decoding of `sql`, and is passed as it is.
 */
export function parseUtf8Native(sql: Uint8Array, text?: string): WasmParseResult {
  const a = addon;
  if (a === undefined) throw new Error("compat-lint: loadPgNative() must be called before parsing");
  // The addon wants a string, which it encodes to UTF-8 again; decoding is native and cheap
  // next to the parse (the WASM binding copies the bytes instead). The linter passes the text it
  // already has for an all-ASCII file parsed whole, the usual case, so that is not decoded twice.
  const str = text ?? Buffer.from(sql.buffer, sql.byteOffset, sql.byteLength).toString("utf8");
  try {
    return { ok: true, json: a.parseQuerySync(str) };
  } catch (err) {
    const e = err as { message?: string; cursorPosition?: unknown };
    // Anything but a parse error (no cursor) is the caller's to handle, as a WASM trap is.
    if (typeof e.cursorPosition !== "number") throw err;
    return {
      ok: false,
      error: {
        message: e.message ?? "Unknown error",
        // libpg_query's cursorpos is 1-based; the WASM binding reports it 0-based.
        cursorPosition: e.cursorPosition > 0 ? e.cursorPosition - 1 : 0,
      },
    };
  }
}
