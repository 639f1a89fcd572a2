import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadPgNative, nativePackage, parseUtf8Native } from "../src/parse/pg-native.js";
import { loadPgWasm, parseUtf8 } from "../src/parse/pg-wasm.js";
import { packageDir } from "./helpers.js";

/**
 * compat-lint parses with libpg_query's native addon when the optional
 * dependency libpg-query-native is installed, and with its WASM build
 * otherwise (src/parse/backend.ts). Both must give the same parse trees,
 * byte for byte apart from the top-level `version` field (the libpg_query
 * patch release, 170004 vs 170007, which compat-lint never reads), and the
 * same syntax errors, or a finding would depend on the platform.
 *
 * Without the native addon this skips with the reason, except in CI
 * (CI=true), where .ci/run builds it (scripts/build-native.mjs): there a
 * missing addon fails, so the native path cannot silently go untested.
 */
let nativeProblem: string | undefined;
try {
  loadPgNative();
} catch (err) {
  nativeProblem = String((err as Error)?.message ?? err).split("\n", 1)[0];
}
const inCi = process.env.CI === "true";

function sqlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? sqlFiles(join(dir, e.name)) : e.name.endsWith(".sql") ? [join(dir, e.name)] : [],
    )
    .sort();
}

/** The JSON tree without its first field, `"version":<n>` (its value differs by patch release). */
function withoutVersion(json: string): string {
  return json.replace(/^\{"version":\d+,?/, "{");
}

function outcomes(bytes: Buffer) {
  const n = parseUtf8Native(bytes);
  const w = parseUtf8(bytes);
  return {
    native: n.ok ? withoutVersion(n.json) : n.error,
    wasm: w.ok ? withoutVersion(w.json) : w.error,
  };
}

describe("native and WASM libpg_query agree", () => {
  it("the native addon is available (required in CI)", () => {
    if (nativeProblem !== undefined && inCi)
      throw new Error(
        `${nativePackage} does not load in CI (${nativeProblem}); run node packages/compat-lint/scripts/build-native.mjs after npm ci`,
      );
    if (nativeProblem !== undefined)
      console.warn(
        `parser-backends: skipped, ${nativePackage} (optional dependency) does not load: ${nativeProblem}. ` +
          "Build it with node packages/compat-lint/scripts/build-native.mjs.",
      );
  });

  describe.skipIf(nativeProblem !== undefined && !inCi)("same trees and errors", () => {
    beforeAll(async () => {
      await loadPgWasm();
    });

    const corpora = ["test/corpus-real", "test/corpus", "test/fixtures"].map((d) => join(packageDir, d));
    const files = corpora.flatMap(sqlFiles);

    it("covers the real-world corpora and the test SQL", () => {
      expect(files.filter((f) => f.includes("corpus-real")).length).toBeGreaterThan(700);
      expect(files.length).toBeGreaterThan(1000);
    });

    it("parses every file to the same tree", () => {
      let compared = 0;
      for (const f of files) {
        const bytes = readFileSync(f);
        // As compat-lint does (parse/parser.ts parseRequest): blank or NUL-bearing input never
        // reaches a parser.
        if (!/\S/.test(bytes.toString("utf8")) || bytes.includes(0)) continue;
        const { native, wasm } = outcomes(bytes);
        expect(native, f).toEqual(wasm);
        compared++;
      }
      expect(compared).toBeGreaterThan(1000);
    });

    it.each([
      ["syntax error", "ALTER TABLE users ADD COLUMN;"],
      ["error after non-ASCII text", 'CREATE TABLE "größe" (id int);\nALTER TABLE größe ADD COLUMN ;'],
      ["unterminated string", "INSERT INTO t VALUES ('abc"],
      ["unterminated dollar quote", "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1"],
      ["non-ASCII identifiers", 'CREATE TABLE "naïve_😀" (ключ int, 名前 text);'],
      ["comments only", "-- nothing here\n/* still nothing */"],
      ["error at the first byte", "garbage"],
    ])("%s", (_name, sql) => {
      const { native, wasm } = outcomes(Buffer.from(sql, "utf8"));
      expect(native).toEqual(wasm);
    });
  });
});
