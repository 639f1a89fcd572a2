import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadModule, parseSync } from "libpg-query";
import { beforeAll, describe, expect, it } from "vitest";
import { loadPgWasm, parseUtf8 } from "../src/parse/pg-wasm.js";
import { fixturesDir } from "./helpers.js";

/**
 * compat-lint calls libpg-query's WASM module directly (src/parse/pg-wasm.ts) to
 * skip the wrapper's JS string handling. That binding reads undocumented
 * internals, so it is checked here against the package's own parseSync:
 * same parse tree for every SQL file in the tests, same message and cursor
 * for syntax errors.
 */
function sqlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sqlFiles(p));
    else if (e.name.endsWith(".sql")) out.push(p);
  }
  return out.sort();
}

type Outcome = { tree: unknown } | { message: string; cursor: number };

function viaPackage(sql: string): Outcome {
  try {
    return { tree: parseSync(sql) };
  } catch (err) {
    const e = err as { message: string; sqlDetails?: { cursorPosition?: number } };
    return { message: e.message, cursor: e.sqlDetails?.cursorPosition ?? -1 };
  }
}

function viaBinding(sql: string): Outcome {
  const r = parseUtf8(Buffer.from(sql, "utf8"));
  return r.ok ? { tree: JSON.parse(r.json) } : { message: r.error.message, cursor: r.error.cursorPosition };
}

describe("direct WASM binding agrees with libpg-query's parseSync", () => {
  beforeAll(async () => {
    await Promise.all([loadModule(), loadPgWasm()]);
  });

  const testDir = fixturesDir.replace(/fixtures\/$/, "");
  const files = sqlFiles(testDir);

  it("covers the corpus and fixtures", () => {
    expect(files.length).toBeGreaterThan(150);
  });

  it("parses every test SQL file to the same tree", () => {
    for (const f of files) {
      const sql = readFileSync(f, "utf8");
      if (sql.trim() === "" || sql.includes("\u0000")) continue;
      expect(viaBinding(sql), f).toEqual(viaPackage(sql));
    }
  });

  it.each([
    ["syntax error", "ALTER TABLE users ADD COLUMN;"],
    ["error after non-ASCII text", 'CREATE TABLE "größe" (id int);\nALTER TABLE größe ADD COLUMN ;'],
    ["unterminated string", "INSERT INTO t VALUES ('abc"],
    ["unterminated dollar quote", "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1"],
    ["non-ASCII identifiers", 'CREATE TABLE "naïve_😀" (ключ int, 名前 text);'],
    ["comments only", "-- nothing here\n/* still nothing */"],
    ["many statements", "SELECT 1;".repeat(5000)],
  ])("%s", (_name, sql) => {
    expect(viaBinding(sql)).toEqual(viaPackage(sql));
  });
});
