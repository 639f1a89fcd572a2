import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { packageDir, repoDir } from "./helpers.js";

/**
 * The CLI as installed: the package's `bin`, the esbuild bundle of src/
 * (scripts/bundle.mjs). It is re-bundled before these tests, so they never
 * run a stale bundle; bundling takes well under a second.
 */
const bin = (JSON.parse(readFileSync(`${packageDir}package.json`, "utf8")) as { bin: Record<string, string> })
  .bin["compat-lint"]!;
const cli = join(packageDir, bin);
const require = createRequire(import.meta.url);

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function project(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), "compat-lint-"));
  mkdirSync(join(dir, "migrations"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, "migrations", name), content);
  return dir;
}

/** Runs git in `dir` with a fixed identity; returns its stdout, failing the test on an error. */
function git(dir: string, ...args: string[]): string {
  const r = spawnSync("git", args, {
    cwd: dir,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@t",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@t",
    },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A project (see project()) committed on branch main, then checked out on a feature branch. */
function repo(files: Record<string, string | Buffer>): string {
  const dir = project(files);
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", ".");
  git(dir, "commit", "-q", "-m", "base");
  git(dir, "checkout", "-q", "-b", "feature");
  return dir;
}

const history = {
  "1_users.sql": "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text);\n",
  "2_drop.sql":
    "-- Up Migration\nALTER TABLE users DROP COLUMN name;\n-- Down Migration\nALTER TABLE users ADD COLUMN name text;\n",
};

describe("compat-lint CLI", () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(packageDir, "scripts/bundle.mjs")], { stdio: "inherit" });
    expect(spawnSync(process.execPath, [cli, "--version"]).status).toBe(0);
  });

  it("passes this repository's own migrations", () => {
    const r = run(["migrations/"], repoDir);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("exits 1 with file:line:col, rule id, caret and hint", () => {
    const r = run(["migrations"], project(history));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("migrations/2_drop.sql:2:19 drop-column error: dropping column users.name");
    expect(r.stdout).toContain(
      " 2 | ALTER TABLE users DROP COLUMN name;\n   |                   ^^^^^^^^^^^^^^^^",
    );
    expect(r.stdout).toContain("= hint: ");
  });

  it("exits 0 when the breaking marker carries a reason, and reports the finding as allowed", () => {
    const dir = project({
      ...history,
      "2_drop.sql":
        "-- compat: breaking (reason: gen 3 stopped reading name)\nALTER TABLE users DROP COLUMN name;\n",
    });
    const r = run(["--format", "json", "migrations"], dir);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.diagnostics).toMatchObject([
      {
        ruleId: "drop-column",
        severity: "allowed",
        reason: "gen 3 stopped reading name",
        line: 2,
        column: 19,
      },
    ]);
  });

  it("exits 2 on a syntax error with its location, and still reports the other files", () => {
    const dir = project({
      ...history,
      "3_bad.sql": "SELECT 1;\nALTER TABLE users ADD COLUMN x int NOT NUL;\n",
    });
    const r = run(["migrations"], dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/migrations\/3_bad\.sql:2:\d+ syntax-error error: syntax error at or near/);
    expect(r.stdout).toContain("drop-column");
    expect(r.stdout).not.toMatch(/\n\s+at /);
  });

  it("prints GitHub annotations and SARIF", () => {
    const dir = project(history);
    const gh = run(["-f", "github", "migrations"], dir);
    expect(gh.code).toBe(1);
    expect(gh.stdout).toMatch(
      /^::error file=migrations\/2_drop\.sql,line=2,col=19,endLine=2,endColumn=\d+,title=compat-lint drop-column::/m,
    );
    const sarif = run(["--format=sarif", "migrations"], dir);
    const doc = JSON.parse(sarif.stdout);
    expect(doc.version).toBe("2.1.0");
    expect(doc.runs[0].results[0]).toMatchObject({ ruleId: "drop-column", level: "error" });
  });

  it("accepts files and globs, and lints in migration order", () => {
    const dir = project(history);
    expect(run(["migrations/*.sql"], dir).code).toBe(1);
    expect(run(["migrations/2_drop.sql", "migrations/1_users.sql"], dir).stdout).toContain("drop-column");
    // Alone, file 2 drops a column of a table the linter never saw: still pre-existing, still an error.
    expect(run(["migrations/2_drop.sql"], dir).code).toBe(1);
  });

  it("reads a config file and lets flags override it", () => {
    const dir = project(history);
    writeFileSync(join(dir, "compat-lint.json"), JSON.stringify({ rules: { "drop-column": "warning" } }));
    expect(run(["migrations"], dir).code).toBe(0);
    expect(run(["--rule", "drop-column=error", "migrations"], dir).code).toBe(1);
    writeFileSync(join(dir, "compat-lint.json"), JSON.stringify({ rules: { "drop-colum": "off" } }));
    const bad = run(["migrations"], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown rule id "drop-colum"');
  });

  it("exits 2 on usage errors with one line, never a stack trace", () => {
    const dir = project(history);
    for (const args of [
      ["--format", "xml"],
      ["--nope"],
      ["missing-dir"],
      ["--pg-version", "x"],
      ["--rule", "foo"],
    ]) {
      const r = run(args, dir);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^compat-lint: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("prints help and version", () => {
    expect(run(["--help"], repoDir).stdout).toContain("Usage: compat-lint");
    expect(run(["-v"], repoDir).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it("names its parser with --debug, and COMPAT_LINT_PARSER chooses it", () => {
    const withParser = (value: string) => ({ ...process.env, COMPAT_LINT_PARSER: value });
    const wasm = run(["--debug", "--version"], repoDir, withParser("wasm"));
    expect(wasm.code).toBe(0);
    expect(wasm.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(wasm.stderr).toBe("compat-lint: parser: WASM libpg_query (libpg-query)\n");
    // auto: native when the optional dependency loads, else WASM; either way one named line.
    expect(run(["--debug", "-v"], repoDir, withParser("auto")).stderr).toMatch(
      /^compat-lint: parser: (native libpg_query \(libpg-query-native 17\.1\.0\)|WASM libpg_query \(libpg-query\))\n$/,
    );
    const bad = run([join(project(history), "migrations")], repoDir, withParser("fast"));
    expect(bad).toMatchObject({ code: 2, stdout: "" });
    expect(bad.stderr).toBe('compat-lint: COMPAT_LINT_PARSER must be auto, native or wasm, got "fast"\n');
  });

  it("says which variable to change when COMPAT_LINT_PARSER=native cannot load", () => {
    // The installed bin in a scratch install whose libpg-query-native is broken (no addon
    // built), next to the real WASM package.
    const dir = mkdtempSync(join(tmpdir(), "compat-lint-native-"));
    mkdirSync(join(dir, "pkg/bin"), { recursive: true });
    for (const f of ["bin/compat-lint.js", "bin/package.json", "bin/compat-lint-main.js", "package.json"])
      writeFileSync(join(dir, "pkg", f), readFileSync(join(packageDir, f)));
    mkdirSync(join(dir, "node_modules/libpg-query-native"), { recursive: true });
    writeFileSync(
      join(dir, "node_modules/libpg-query-native/package.json"),
      '{"name":"libpg-query","main":"index.js"}',
    );
    writeFileSync(join(dir, "node_modules/libpg-query-native/index.js"), "");
    symlinkSync(
      dirname(require.resolve("libpg-query/package.json")),
      join(dir, "node_modules/libpg-query"),
      "dir",
    );
    const broken = (value: string) =>
      spawnSync(
        process.execPath,
        [join(dir, "pkg/bin/compat-lint.js"), "--debug", join(project(history), "migrations")],
        {
          env: { ...process.env, COMPAT_LINT_PARSER: value },
          encoding: "utf8",
          timeout: 30_000,
        },
      );
    const forced = broken("native");
    expect(forced.status).toBe(2);
    expect(forced.stderr).toMatch(
      /^compat-lint: COMPAT_LINT_PARSER=native, but the native parser \(optional dependency libpg-query-native\) does not load: Cannot find module '.*queryparser\.node'\. Unset COMPAT_LINT_PARSER \(or set it to auto or wasm\) to use the WASM parser\.\n$/,
    );
    // auto falls back to WASM and lints as usual.
    const auto = broken("auto");
    expect(auto.stderr).toMatch(/^compat-lint: parser: WASM libpg_query \(libpg-query\)\n/);
    expect(auto.status).toBe(1);
  });

  it("lints the same without its code cache, with another build's, and with one V8 rejects", () => {
    // bin/compat-lint-main.cache only saves compile time (scripts/code-cache.mjs); the output
    // must never depend on it.
    const cache = join(packageDir, "bin/compat-lint-main.cache");
    expect(existsSync(cache)).toBe(true);
    const dir = project(history);
    const lintBoth = () => [
      run(["--format", "json", "migrations"], dir),
      run(["--format", "text", join(packageDir, "test/corpus/blog")], dir),
    ];
    const expected = lintBoth();
    expect(expected[0]!.code).toBe(1);
    const original = readFileSync(cache);
    const aside = `${cache}.aside`;
    renameSync(cache, aside);
    try {
      expect(lintBoth()).toEqual(expected);
      // Another build's cache: the tag (first 16 bytes) does not match the script's.
      writeFileSync(cache, Buffer.concat([Buffer.from("0123456789abcdef"), original.subarray(16)]));
      expect(lintBoth()).toEqual(expected);
      // The right tag, but bytes V8 rejects.
      writeFileSync(cache, Buffer.concat([original.subarray(0, 16), Buffer.alloc(4096, 7)]));
      expect(lintBoth()).toEqual(expected);
    } finally {
      renameSync(aside, cache);
    }
    expect(lintBoth()).toEqual(expected);
  });

  it("--since: only files added since the ref are the change set; older ones are context", () => {
    // Committed on main; the feature branch starts at the same commit as HEAD.
    const dir = repo(history);
    // The old violation in 2_drop.sql was merged already: not reported.
    expect(run(["--since", "HEAD", "migrations"], dir).code).toBe(0);
    // A new file that creates a table and alters it in a later new file: one change set, exempt.
    writeFileSync(join(dir, "migrations", "3_new.sql"), "CREATE TABLE audit (id int, note text);\n");
    writeFileSync(join(dir, "migrations", "4_new.sql"), "ALTER TABLE audit DROP COLUMN note;\n");
    expect(run(["--since", "HEAD", "migrations"], dir).code).toBe(0);
    // Without --since each file is its own change set, so 4 drops a column 3 created earlier.
    expect(run(["migrations/3_new.sql", "migrations/4_new.sql"], dir).code).toBe(1);
    writeFileSync(join(dir, "migrations", "5_new.sql"), "ALTER TABLE users DROP COLUMN email;\n");
    const r = run(["--since", "HEAD", "migrations"], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("5_new.sql:1:19 drop-column");
    expect(r.stdout).not.toContain("2_drop.sql");
    const bad = run(["--since", "no-such-ref", "migrations"], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^compat-lint: --since: unknown git ref "no-such-ref"/);
  });
  it("--since: a new file is in the change set even when git would call it a rename of an edited one", () => {
    // A team replaces an unreleased-looking migration with a new one of mostly the same text:
    // git's rename detection (on by default, or by diff.renames) pairs them, but the new name is
    // a migration node-pg-migrate has never run, and its DROP COLUMN must be judged.
    const index =
      "-- Up Migration\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n-- Down Migration\nDROP INDEX users_email;\n";
    const dir = repo({ "1_users.sql": history["1_users.sql"], "2_index.sql": index });
    git(dir, "rm", "-q", "migrations/2_index.sql");
    writeFileSync(
      join(dir, "migrations", "3_index_again.sql"),
      index.replace("-- Down Migration", "ALTER TABLE users DROP COLUMN name;\n-- Down Migration"),
    );
    git(dir, "add", ".");
    git(dir, "commit", "-q", "-m", "replace");
    expect(git(dir, "diff", "--name-status", "-M", "main")).toMatch(/^R\d+\t/);
    const r = run(["--since", "main", "migrations"], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("migrations/3_index_again.sql:3:19 drop-column error");
  });

  it("--since: files moved unchanged (a migrations folder moved) stay context, not new", () => {
    const dir = repo(history);
    git(dir, "mv", "migrations", "db");
    git(dir, "commit", "-q", "-m", "move");
    // users comes from a file the ref had (at another path): dropping its column is reported.
    writeFileSync(join(dir, "db", "3_drop.sql"), "ALTER TABLE users DROP COLUMN email;\n");
    const r = run(["--since", "main", "db"], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("db/3_drop.sql:1:19 drop-column error");
    expect(r.stdout).not.toContain("2_drop.sql");
  });

  it("--since: an edited migration the ref already had is edited-migration, unless only whitespace, comments or its Down section changed", () => {
    const dir = repo(history);
    // Reformatted, commented, a Down section changed: the same statements, nothing to report.
    writeFileSync(
      join(dir, "migrations", "2_drop.sql"),
      "-- Up Migration\n-- dropped: nobody reads it\nALTER TABLE   users\n  DROP COLUMN name;\n-- Down Migration\nALTER TABLE users ADD COLUMN name text NULL;\n",
    );
    expect(run(["--since", "main", "migrations"], dir)).toMatchObject({ code: 0 });
    // A statement changed in an old file: databases that ran it never see the change.
    writeFileSync(
      join(dir, "migrations", "1_users.sql"),
      "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, name text);\n",
    );
    const r = run(["--since", "main", "migrations"], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "migrations/1_users.sql:1:1 edited-migration error: this migration already existed at main and its statements changed since (statement 1 differs)",
    );
    // Committed on the branch or staged: the same.
    git(dir, "commit", "-qam", "edit");
    expect(run(["--since", "main", "migrations"], dir).stdout).toContain("1_users.sql:1:1 edited-migration");
    // A statement appended to an old file is found at that statement; the marker allows it, with its reason.
    writeFileSync(
      join(dir, "migrations", "1_users.sql"),
      "-- compat: breaking (reason: fresh databases only; production has the index)\nCREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, name text);\nCREATE INDEX users_name ON users (name);\n",
    );
    const allowed = run(["--since", "main", "--format", "json", "migrations"], dir);
    expect(allowed.code).toBe(0);
    const found = (
      JSON.parse(allowed.stdout) as { diagnostics: Array<Record<string, unknown>> }
    ).diagnostics.filter((d) => d.ruleId === "edited-migration");
    expect(found).toMatchObject([
      {
        file: "migrations/1_users.sql",
        line: 2,
        severity: "allowed",
        reason: "fresh databases only; production has the index",
      },
    ]);
    // Without --since there is no earlier version to compare with.
    expect(run(["migrations"], dir).stdout).not.toContain("edited-migration");
    // It can be turned off like any rule.
    writeFileSync(join(dir, "compat-lint.json"), JSON.stringify({ rules: { "edited-migration": "off" } }));
    writeFileSync(join(dir, "migrations", "1_users.sql"), "CREATE TABLE users (id bigint PRIMARY KEY);\n");
    expect(run(["--since", "main", "migrations"], dir).stdout).not.toContain("edited-migration");
  });

  it("--since: a comment added to a CRLF checkout (core.autocrlf) of an LF-committed migration is not edited-migration", () => {
    // Committed with LF; a Windows checkout has CRLF, inside the function body too. The ref's
    // version is compared as checked out, so the line endings alone are not a change.
    const dir = repo({
      "1_fn.sql": "CREATE FUNCTION one() RETURNS int AS $$\nSELECT 1\n$$ LANGUAGE sql;\n",
    });
    git(dir, "config", "core.autocrlf", "true");
    writeFileSync(
      join(dir, "migrations", "1_fn.sql"),
      "-- returns one\r\nCREATE FUNCTION one() RETURNS int AS $$\r\nSELECT 1\r\n$$ LANGUAGE sql;\r\n",
    );
    expect(run(["--since", "main", "migrations"], dir)).toMatchObject({ code: 0 });
    // A real edit in the same checkout is still found.
    writeFileSync(
      join(dir, "migrations", "1_fn.sql"),
      "CREATE FUNCTION one() RETURNS int AS $$\r\nSELECT 2\r\n$$ LANGUAGE sql;\r\n",
    );
    expect(run(["--since", "main", "migrations"], dir).stdout).toContain("1_fn.sql:1:1 edited-migration");
  });

  it("a folder's *.down.sql files (golang-migrate rollbacks) are not linted; named explicitly, they are", () => {
    const dir = project({
      "000001_users.up.sql": "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
      "000001_users.down.sql": "DROP TABLE users;\n",
      "000002_email.up.sql": "CREATE INDEX CONCURRENTLY users_email ON users (email);\n",
      "000002_email.down.sql": "DROP INDEX users_email;\n",
    });
    const r = run(["--format", "json", "migrations"], dir);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { files: string[] }).files).toEqual([
      "migrations/000001_users.up.sql",
      "migrations/000002_email.up.sql",
    ]);
    const explicit = run(
      ["--format", "json", "migrations/000001_users.up.sql", "migrations/000001_users.down.sql"],
      dir,
    );
    expect(explicit.code).toBe(1);
    expect(explicit.stdout).toContain('"ruleId": "drop-table"');
  });

  it("--since: a ref that does not resolve is named, with the shallow-clone remedy", () => {
    const dir = repo(history);
    const bad = run(["--since", "origin/main", "migrations"], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^compat-lint: --since: unknown git ref "origin\/main" \(.*git fetch/);
    const empty = run(["--since=", "migrations"], dir);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe("compat-lint: --since needs a git ref, such as origin/main\n");
  });

  it("with no paths and no migrations/ folder, says it looked for the default", () => {
    const dir = mkdtempSync(join(tmpdir(), "compat-lint-"));
    const r = run([], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no such file or directory: migrations (no paths given");
  });

  it("applies a marker or ignore-file written above -- Up Migration, and reports directives in the Down section", () => {
    const up =
      "-- Up Migration\nALTER TABLE users DROP COLUMN name;\n-- Down Migration\nALTER TABLE users ADD COLUMN name text;\n";
    const dir = project({
      "1_users.sql": history["1_users.sql"],
      "2_marker_on_top.sql": `-- compat: breaking (reason: gen 3 stopped reading name)\n${up}`,
      "3_ignore_on_top.sql": `-- compat-lint ignore-file drop-column\n${up.replace("name", "email")}`,
      "4_marker_in_down.sql":
        "-- Up Migration\nALTER TABLE users DROP COLUMN id;\n-- Down Migration\n-- compat: breaking (reason: too late)\nALTER TABLE users ADD COLUMN id bigint;\n",
    });
    const r = run(["--format", "json", "migrations"], dir);
    const doc = JSON.parse(r.stdout) as {
      diagnostics: { file: string; line: number; ruleId: string; severity: string; message: string }[];
    };
    const found = doc.diagnostics.map((d) => [
      d.file.replace("migrations/", ""),
      d.line,
      d.ruleId,
      d.severity,
    ]);
    expect(found).toEqual([
      ["2_marker_on_top.sql", 3, "drop-column", "allowed"],
      ["4_marker_in_down.sql", 4, "invalid-directive", "error"],
      ["4_marker_in_down.sql", 2, "drop-column", "error"],
    ]);
    expect(doc.diagnostics[1]!.message).toContain("Down section has no effect");
    expect(r.code).toBe(1);
  });

  it("names the line and column of invalid JSON in the config file", () => {
    const dir = project(history);
    writeFileSync(
      join(dir, "compat-lint.json"),
      '{\n  "rules": { "drop-column": "off" }\n  "pgVersion": 15\n}\n',
    );
    const r = run(["migrations"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^compat-lint: \/.*compat-lint\.json:3:3: invalid JSON: Expected ',' or '}'/);
    writeFileSync(join(dir, "compat-lint.json"), "");
    expect(run(["migrations"], dir).stderr).toMatch(/compat-lint\.json: invalid JSON: the file is empty\n$/);
  });

  it("names the line and column of an unexpected token in the config file; accepts a UTF-8 BOM", () => {
    const dir = project(history);
    // V8's "Unexpected token" messages carry no position; the file's line:col is still given.
    writeFileSync(join(dir, "compat-lint.json"), '{\n  "rules": {},\n  "pgVersion": fifteen\n}\n');
    const r = run(["migrations"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^compat-lint: \/.*compat-lint\.json:3:17: invalid JSON: Unexpected token 'i'\n$/,
    );
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    // Windows tools (PowerShell 5's Set-Content -Encoding UTF8, Notepad) write a byte order mark.
    writeFileSync(join(dir, "compat-lint.json"), '\uFEFF{ "rules": { "drop-column": "off" } }\n');
    expect(run(["migrations"], dir)).toMatchObject({ code: 0, stderr: "" });
  });

  it("puts the caret under the finding after wide (CJK, emoji) and combining characters", () => {
    const dir = project({
      "1_t.sql": 'CREATE TABLE "名前" (id int, "列" text);\n',
      // "e\u0301" is e + a combining acute accent: two code points, one cell on a terminal.
      "2_drop.sql": 'ALTER TABLE "名前" /* 😀 e\u0301 */ DROP COLUMN "列";\n',
    });
    const r = run(["migrations"], dir);
    const lines = r.stdout.split("\n");
    const src = lines.findIndex((l) => l.startsWith(" 1 | ALTER"));
    expect(src).toBeGreaterThan(0);
    // Terminal cells: CJK and emoji take two, a combining mark none.
    const cellsBefore = (s: string) =>
      [...s].reduce(
        (n, c) => n + (/\p{Mn}/u.test(c) ? 0 : /[\u4E00-\u9FFF\p{Emoji_Presentation}]/u.test(c) ? 2 : 1),
        0,
      );
    const srcLine = lines[src]!;
    const caretLine = lines[src + 1]!;
    expect(caretLine.indexOf("^")).toBe(cellsBefore(srcLine.slice(0, srcLine.indexOf("DROP"))));
    expect(caretLine.slice(caretLine.indexOf("^"))).toBe("^".repeat(cellsBefore('DROP COLUMN "列"')));
  });

  it("github and SARIF paths are relative to the repository root when run from a subdirectory", () => {
    const dir = repo({ ...history, "3_odd #?:name.sql": "ALTER TABLE users DROP COLUMN email;\n" });
    const sub = join(dir, "migrations");
    const gh = run(["-f", "github", "."], sub);
    expect(gh.stdout).toMatch(/^::error file=migrations\/2_drop\.sql,line=2,col=19,/m);
    const doc = JSON.parse(run(["-f", "sarif", "."], sub).stdout);
    const uris = doc.runs[0].results.map(
      (x: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) =>
        x.locations[0]!.physicalLocation.artifactLocation.uri,
    );
    // "#" and "?" would start a fragment and a query; ":" in a first segment would read as a scheme.
    expect(uris).toEqual(["migrations/2_drop.sql", "migrations/3_odd%20%23%3F%3Aname.sql"]);
  });

  it("SARIF: every rule's helpUri is an absolute URI, as SARIF 2.1.0 requires", () => {
    const doc = JSON.parse(run(["-f", "sarif", "migrations"], project(history)).stdout);
    for (const rule of doc.runs[0].tool.driver.rules as { id: string; helpUri: string }[]) {
      if (rule.id === "syntax-error" || rule.id === "read-error") {
        expect(rule.helpUri).toMatch(/^https:\/\/[^ ]+\/docs\/compat-lint\/README\.md#exit-status$/);
        continue;
      }
      expect(rule.helpUri).toMatch(new RegExp(`^https://[^ ]+/docs/compat-lint/rules/${rule.id}\\.md$`));
    }
  });
});

describe("polish: SARIF rule entries, a second breaking marker, pgVersion type", () => {
  it("describes syntax-error and read-error in SARIF driver.rules, like every result's rule", () => {
    const dir = project({ ...history, "3_bad.sql": "ALTER TABLE users ADD COLUMN x int NOT NUL;\n" });
    const doc = JSON.parse(run(["-f", "sarif", "migrations"], dir).stdout);
    const rules = doc.runs[0].tool.driver.rules as { id: string; shortDescription: { text: string } }[];
    for (const r of doc.runs[0].results) expect(rules.map((x) => x.id)).toContain(r.ruleId);
    for (const id of ["syntax-error", "read-error"]) {
      const entry = rules.find((x) => x.id === id)!;
      expect(entry.shortDescription.text.length).toBeGreaterThan(20);
      expect(entry).toMatchObject({ defaultConfiguration: { level: "error" } });
    }
  });

  it("reports a second breaking marker in a file instead of silently ignoring its reason", () => {
    const dir = project({
      ...history,
      "3_two.sql":
        "-- compat: breaking (reason: gen 40 retired)\nALTER TABLE users DROP COLUMN name;\n-- compat: breaking (reason: also this)\nALTER TABLE users DROP COLUMN id;\n",
    });
    const r = run(["-f", "json", "migrations/3_two.sql"], dir);
    const d = JSON.parse(r.stdout).diagnostics;
    const invalid = (d as { ruleId: string; line: number; message: string }[]).filter(
      (x) => x.ruleId === "invalid-directive",
    );
    expect(invalid).toHaveLength(1);
    expect(invalid[0]!.line).toBe(3);
    expect(invalid[0]!.message).toMatch(/second|one .*marker/i);
    expect(r.code).toBe(1);
  });

  it('rejects "pgVersion": "15" (a string) in the config file, naming the option', () => {
    const dir = project(history);
    writeFileSync(join(dir, "compat-lint.json"), '{ "pgVersion": "15" }');
    const r = run(["migrations"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"pgVersion" must be a number .*got "15"/);
    // The flag is text by nature and still takes digits.
    expect(run(["--pg-version", "15", "migrations"], project(history)).code).toBe(1);
  });
});
