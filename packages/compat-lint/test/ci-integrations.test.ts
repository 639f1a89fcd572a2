import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageDir, repoDir } from "./helpers.js";

/**
 * The composite GitHub Action (action.yml) and the pre-commit hook (.pre-commit-hooks.yaml) at
 * the repository root. The Action's lint step is a bash script: it is run here as the runner
 * would run it (inputs as environment variables, GITHUB_OUTPUT a file), against the built CLI.
 */
const action = readFileSync(join(repoDir, "action.yml"), "utf8");

/** The `run: |` block of the step with `id`, dedented. */
function stepScript(id: string): string {
  const lines = action.split("\n");
  const at = lines.findIndex((l) => l.trim() === `- id: ${id}`);
  const run = lines.findIndex((l, i) => i > at && l.trim() === "run: |");
  const indent = (lines[run + 1] ?? "").search(/\S/);
  const body: string[] = [];
  for (const l of lines.slice(run + 1)) {
    if (l.trim() !== "" && l.search(/\S/) < indent) break;
    body.push(l.slice(indent));
  }
  return body.join("\n");
}

function lintStep(env: Record<string, string>, cwd: string) {
  const out = join(cwd, "github-output");
  writeFileSync(out, "");
  const r = spawnSync("bash", ["--noprofile", "--norc", "-c", stepScript("lint")], {
    cwd,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      GITHUB_OUTPUT: out,
      INPUT_PATHS: "migrations",
      INPUT_SINCE: "",
      INPUT_CONFIG: "",
      INPUT_ARGS: "",
      INPUT_VERSION: "0.1.0",
      INPUT_COMMAND: `${process.execPath} ${join(packageDir, "bin/compat-lint.js")}`,
      SARIF_FILE: "compat-lint.sarif",
      BASE_REF: "",
      ...env,
    },
  });
  return { ...r, outputs: readFileSync(out, "utf8") };
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "compat-lint-action-"));
  for (const [p, sql] of Object.entries(files)) {
    mkdirSync(join(dir, p, ".."), { recursive: true });
    writeFileSync(join(dir, p), sql);
  }
  return dir;
}

describe("GitHub Action", () => {
  it("annotates, writes SARIF and reports compat-lint's exit status", () => {
    const dir = project({
      "migrations/1_init.sql": "CREATE TABLE users (id int PRIMARY KEY, email text);",
      "migrations/2_drop.sql": "ALTER TABLE users DROP COLUMN email;",
    });
    const r = lintStep({}, dir);
    expect(r.stdout).toMatch(/^::error file=migrations\/2_drop\.sql,line=1,/m);
    expect(r.outputs).toContain("exit-code=1\n");
    expect(r.outputs).toContain("sarif=true\n");
    const sarif = JSON.parse(readFileSync(join(dir, "compat-lint.sarif"), "utf8"));
    expect(sarif.runs[0].results.map((x: { ruleId: string }) => x.ruleId)).toEqual(["drop-column"]);
  });

  it("passes paths with braces and extra options through, and is clean with exit 0", () => {
    const dir = project({
      "db/core/1_init.sql": "CREATE TABLE t (id int);",
      "db/billing/2_add.sql": "ALTER TABLE t ADD COLUMN x int;",
    });
    const r = lintStep({ INPUT_PATHS: "db/{core,billing}/*.sql", INPUT_ARGS: "--pg-version 16" }, dir);
    expect(r.stderr).not.toContain("compat-lint:");
    expect(r.outputs).toContain("exit-code=0\n");
  });

  it("has no report to upload after a usage error (exit 2)", () => {
    const dir = project({ "x.txt": "" });
    const r = lintStep({ INPUT_PATHS: "nowhere" }, dir);
    expect(r.outputs).toContain("exit-code=2\n");
    expect(r.outputs).not.toContain("sarif=true");
  });

  it("documents every input the script reads, and uploads SARIF with codeql-action", () => {
    for (const input of ["paths", "since", "config", "args", "version", "command", "sarif-file"])
      expect(action).toMatch(new RegExp(`\\n  ${input}:\\n    description:`));
    expect(action).toContain("uses: github/codeql-action/upload-sarif@v3");
  });
});

describe("pre-commit hook", () => {
  it("runs the CLI with --since HEAD on the migrations folder, not on file names", () => {
    const hooks = readFileSync(join(repoDir, ".pre-commit-hooks.yaml"), "utf8");
    expect(hooks).toContain("- id: compat-lint");
    expect(hooks).toContain("pass_filenames: false");
    expect(hooks).toContain("args: [--since, HEAD, migrations]");
  });
});
