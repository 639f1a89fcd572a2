import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(root, "packages/compat-lint/dist/cli.js");

beforeAll(() => {
  execFileSync("npx", ["tsc", "-b", "packages/compat-lint"], { cwd: root, stdio: "ignore" });
});

function folder(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-badsql-"));
  writeFileSync(join(dir, "001_base.sql"), "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n");
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

function digest(dir: string): string {
  const h = createHash("sha256");
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest("hex");
}

function lint(dir: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args, dir], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
}

const hostile: Record<string, string | Buffer> = {
  "truncated statement":
    "ALTER TABLE accounts ADD COLUMN name text;\nCREATE TABLE orders (id bigint, account_id bigint REFERENCES acc",
  "unterminated string": "INSERT INTO accounts (id, email) VALUES (1, 'never closed);\n",
  "unterminated comment": "/* a comment that never ends\nALTER TABLE accounts DROP COLUMN email;\n",
  "binary garbage": Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x9c, 0x80, 0x00, 0x2f, 0x2a]),
  "invalid UTF-8": Buffer.concat([
    Buffer.from("ALTER TABLE accounts ADD COLUMN n text DEFAULT '"),
    Buffer.from([0xc3, 0x28]),
    Buffer.from("';\n"),
  ]),
  "a marker without a reason": "-- compat: breaking\nALTER TABLE accounts DROP COLUMN email;\n",
};

describe("compat-lint on truncated or hostile migration files: a located error, never a crash", () => {
  for (const [what, body] of Object.entries(hostile)) {
    it(`${what}: exits 1 or 2 with file:line:col, no stack trace, files untouched`, () => {
      const dir = folder({ "002_bad.sql": body });
      const before = digest(dir);
      const r = lint(dir);
      expect(r.signal, r.out).toBeNull();
      expect([1, 2], r.out).toContain(r.status);
      expect(r.out).toMatch(/002_bad\.sql:\d+:\d+/);
      expect(r.out).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
      expect(digest(dir)).toBe(before);
    });
  }

  // Valid but punishing: no crash, no hang, a normal verdict (or a located parse error).
  const stressful: Record<string, string> = {
    "a deeply nested expression": `SELECT ${"(".repeat(100_000)}1${")".repeat(100_000)};\n`,
    "a huge file": `${"SELECT 1;\n".repeat(50_000)}ALTER TABLE accounts ADD COLUMN n text;\n`,
  };
  for (const [what, body] of Object.entries(stressful)) {
    it(`${what}: a verdict, never a crash`, () => {
      const dir = folder({ "002_big.sql": body });
      const r = lint(dir);
      expect(r.signal, r.out).toBeNull();
      expect([0, 2], r.out).toContain(r.status);
      if (r.status === 2) expect(r.out).toMatch(/002_big\.sql:\d+:\d+/);
      expect(r.out).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
    });
  }

  it("a truncated file is a parse error (exit 2) that names the file and its location", () => {
    const r = lint(folder({ "002_bad.sql": hostile["truncated statement"]! }));
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/002_bad\.sql:2:\d+/);
  });

  it("JSON output stays valid JSON for hostile input", () => {
    const r = lint(folder({ "002_bad.sql": hostile["binary garbage"]! }), "--format", "json");
    expect([1, 2]).toContain(r.status);
    const json = r.out.slice(
      r.out.indexOf("{") >= 0 && r.out.trim().startsWith("[") === false
        ? r.out.indexOf("{")
        : r.out.indexOf("["),
    );
    expect(() => JSON.parse(json)).not.toThrow();
  });

  it("a path that does not exist is a usage error (exit 2), not a crash", () => {
    const r = lint(join(tmpdir(), "cutover-no-such-dir-", String(process.pid)));
    expect(r.status).toBe(2);
    expect(r.out).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
