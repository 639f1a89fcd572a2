import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatGithub, formatJson, formatSarif, formatText, lint, lintSources } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";
import { lintOne, packageDir } from "./helpers.js";

/** A deterministic PRNG so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pieces = [
  "ALTER TABLE ",
  "users ",
  "DROP ",
  "COLUMN ",
  "ADD ",
  "CONSTRAINT ",
  "UNIQUE ",
  "(",
  ")",
  ";",
  "'",
  '"',
  "$$",
  "$x$",
  "--",
  "/*",
  "*/",
  "\n",
  " NOT NULL",
  " DEFAULT ",
  "now()",
  "CREATE TABLE t (a int",
  "CREATE INDEX ON users (a)",
  "RENAME ",
  "TO ",
  "TYPE bigint",
  "DO ",
  "e'\\''",
  "é",
  "日本",
  "😀",
  "\t",
  "\r\n",
  "ALTER TYPE e RENAME VALUE 'a' TO 'b'",
  "-- compat: breaking (reason: x)",
  "-- compat: breaking",
  "-- compat-lint ignore drop-column",
  "-- Up Migration",
  "-- Down Migration",
  "SET search_path TO a, b",
  "DROP SCHEMA s CASCADE",
  "numeric(10,2)",
  "REFERENCES u(id)",
];

function assertSane(result: Awaited<ReturnType<typeof lintOne>>, text: string) {
  expect([0, 1, 2]).toContain(result.exitCode);
  const lines = text.split("\n").length;
  for (const d of result.diagnostics) {
    expect(d.start.line).toBeGreaterThanOrEqual(1);
    expect(d.start.line).toBeLessThanOrEqual(lines);
    expect(d.start.column).toBeGreaterThanOrEqual(1);
    expect(d.message.length).toBeGreaterThan(0);
    if (d.category === "syntax") expect(result.exitCode).toBe(2);
  }
  // Every renderer copes with whatever came out.
  formatText(result);
  JSON.parse(formatJson(result, "0"));
  formatGithub(result);
  JSON.parse(formatSarif(result, "0"));
}

describe("robustness: never a crash, always a location or a clean result", () => {
  it("random SQL-ish token soup (500 cases)", async () => {
    const r = rng(42);
    for (let i = 0; i < 500; i++) {
      const n = 1 + Math.floor(r() * 30);
      let s = "";
      for (let j = 0; j < n; j++) s += pieces[Math.floor(r() * pieces.length)];
      assertSane(await lintOne(s), s);
    }
  });

  it("every prefix of a real migration (truncated SQL)", async () => {
    const sql =
      "-- Up Migration\nCREATE TABLE \"räume\" (id bigint PRIMARY KEY, name text NOT NULL DEFAULT 'x');\n" +
      "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $b$ BEGIN RETURN NEW; END $b$;\n" +
      'ALTER TABLE "räume" ADD COLUMN n int, DROP COLUMN name;\n-- Down Migration\nDROP TABLE "räume";\n';
    for (let i = 0; i <= sql.length; i++) assertSane(await lintOne(sql.slice(0, i)), sql.slice(0, i));
  });

  it("binary junk, NUL bytes and invalid UTF-8 are exit 2 with a location", async () => {
    const r = rng(7);
    for (let i = 0; i < 50; i++) {
      const bytes = Buffer.alloc(1 + Math.floor(r() * 2000));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(r() * 256);
      const res = await lintOne(bytes);
      assertSane(res, bytes.toString("utf8"));
      expect(res.exitCode).toBe(2);
    }
    const nul = await lintOne(Buffer.from("SELECT 1;\nSELECT\u0000 2;"));
    expect(nul.diagnostics[0]).toMatchObject({ ruleId: "syntax-error", start: { line: 2, column: 7 } });
    const latin1 = await lintOne(Buffer.from([0x53, 0x45, 0x4c, 0x0a, 0x27, 0xe9, 0x27]));
    expect(latin1.diagnostics[0]).toMatchObject({ ruleId: "read-error", start: { line: 2, column: 2 } });
  });

  it("empty, whitespace-only and comment-only files are clean", async () => {
    for (const s of [
      "",
      "   \n\n",
      "-- nothing\n",
      "/* nothing */",
      ";;;",
      "-- Up Migration\n-- Down Migration\nDROP TABLE x;",
    ]) {
      const res = await lintOne(s);
      expect(res.diagnostics, JSON.stringify(s)).toEqual([]);
      expect(res.exitCode).toBe(0);
    }
  });

  it("deeply nested expressions end in a syntax error, not a crash", async () => {
    const s = `SELECT ${"(".repeat(50_000)}1${")".repeat(50_000)};`;
    const res = await lintOne(s);
    expect(res.exitCode).toBe(2);
  });

  it("reports a syntax error's column in code points after non-ASCII text", async () => {
    const res = await lintOne("SELECT '😀 größe' FROM t WHER x;");
    expect(res.diagnostics[0]).toMatchObject({ ruleId: "syntax-error", start: { line: 1, column: 30 } });
  });

  it("a 5 MB migration is linted in one piece", async () => {
    const stmt = "ALTER TABLE big ADD COLUMN c_%d text;\n";
    let s = "CREATE TABLE big (id int);\n";
    for (let i = 0; s.length < 5 * 1024 * 1024; i++) s += stmt.replace("%d", String(i));
    const res = await lintSources([
      { path: "big.sql", content: s, inChangeSet: true },
      { path: "next.sql", content: "ALTER TABLE big DROP COLUMN c_1;\n", inChangeSet: true },
    ]);
    // Everything in the 5 MB file is new to it; the next file's drop is judged against its replay.
    expect(res.diagnostics.map((d) => `${d.file}:${d.ruleId}`)).toEqual(["next.sql:drop-column"]);
  }, 60_000);

  it("the CLI survives a binary file next to good ones (exit 2, no stack trace)", () => {
    const dir = mkdtempSync(join(tmpdir(), "compat-lint-junk-"));
    writeFileSync(join(dir, "1_ok.sql"), "CREATE TABLE t (a int);\n");
    writeFileSync(join(dir, "2_junk.sql"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0xff, 0xfe]));
    writeFileSync(join(dir, "3_drop.sql"), "ALTER TABLE t DROP COLUMN a;\n");
    const r = spawnSync(process.execPath, [`${packageDir}dist/cli.js`, dir], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain("2_junk.sql:1:");
    expect(r.stdout).toContain("3_drop.sql:1:15 drop-column");
    expect(r.stderr).toBe("");
  });

  it("reads every file whole, whatever its size and however many come before it", async () => {
    // lint() reads files into shared 1 MB buffers and reads again a file that fills the room left:
    // sizes around and above that room, in a row, must arrive byte for byte.
    const dir = mkdtempSync(join(tmpdir(), "compat-lint-sizes-"));
    const r = rng(11);
    const names: string[] = [];
    for (let i = 0; i < 40; i++) {
      const size = [0, 1, 255, 4096, 200_000, 262_143, 262_144, 700_000, 1_048_576, 1_500_000][i % 10]!;
      let s = `CREATE TABLE t${i} (id int);\n`;
      while (s.length < size) s += `-- filler ${Math.floor(r() * 1e9)} é\n`;
      const name = `${String(i).padStart(3, "0")}_m.sql`;
      writeFileSync(join(dir, name), `${s}ALTER TABLE t${Math.max(0, i - 1)} DROP COLUMN id;\n`);
      names.push(name);
    }
    const fromDisk = await lint({ paths: ["."], cwd: dir });
    const inMemory = await lintSources(
      names.map((n) => ({ path: n, content: readFileSync(join(dir, n)), inChangeSet: true })),
    );
    expect(fromDisk.diagnostics).toEqual(inMemory.diagnostics);
    // Each file but the first drops a column of the table the previous file created.
    expect(fromDisk.diagnostics.filter((d) => d.ruleId === "drop-column")).toHaveLength(39);
  }, 60_000);

  it("a file that cannot be read is a read-error at 1:1, exit 2, and the others are still linted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "compat-lint-unreadable-"));
    writeFileSync(join(dir, "1_t.sql"), "CREATE TABLE t (a int);\n");
    symlinkSync(join(dir, "missing-target.sql.txt"), join(dir, "2_dangling.sql"));
    writeFileSync(join(dir, "3_drop.sql"), "ALTER TABLE t DROP COLUMN a;\n");
    const res = await lint({ paths: ["."], cwd: dir });
    expect(res.exitCode).toBe(2);
    expect(res.diagnostics.map((d) => [d.file, d.ruleId, d.start.line, d.start.column])).toEqual([
      ["2_dangling.sql", "read-error", 1, 1],
      ["3_drop.sql", "drop-column", 1, 15],
    ]);
    expect(res.diagnostics[0]!.message).toMatch(/cannot read: no such file/);
  });

  it("a file starting with a byte-order mark is a syntax error that says so, at 1:1", async () => {
    const res = await lintOne(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("CREATE TABLE t (a int);\n")]),
    );
    expect(res.exitCode).toBe(2);
    expect(res.diagnostics[0]).toMatchObject({ ruleId: "syntax-error", start: { line: 1, column: 1 } });
    expect(res.diagnostics[0]!.message).toMatch(/^the file starts with a UTF-8 byte-order mark \(U\+FEFF\)/);
    // Before an up marker too: the marker search's \s matches U+FEFF (in node-pg-migrate as here),
    // so the up section starts with the mark and Postgres gets it.
    const marked = await lintOne(
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from("-- Up Migration\nCREATE TABLE t (a int);\n"),
      ]),
    );
    expect(marked.diagnostics.map((d) => d.message.slice(0, 45))).toEqual([
      "the file starts with a UTF-8 byte-order mark ",
    ]);
  });
});
