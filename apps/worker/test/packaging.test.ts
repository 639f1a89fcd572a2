/**
 * The static packaging checks and the deploy-manifest coverage check, run on
 * the repo (they pass) and on temp copies with one defect each (they fail,
 * naming it).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { root } from "./support/process.js";

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function run(tool: string, dir?: string) {
  const r = spawnSync(process.execPath, [join(root, "tools", tool), ...(dir ? ["--root", dir] : [])], {
    cwd: root,
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A temp copy of the given repo paths. */
function copy(paths: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "cutover-pack-"));
  temps.push(dir);
  for (const p of paths) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    cpSync(join(root, p), join(dir, p), { recursive: true });
  }
  return dir;
}

function edit(dir: string, file: string, fn: (text: string) => string): void {
  const p = join(dir, file);
  const before = readFileSync(p, "utf8");
  const after = fn(before);
  expect(after).not.toBe(before); // the defect was really introduced
  writeFileSync(p, after);
}

const PACKAGING = ["Dockerfile", ".dockerignore", "deploy", "charts"];

describe("tools/check-packaging.mjs", () => {
  it("passes on the repo's Dockerfile, .dockerignore, Compose example and Helm chart", () => {
    const r = run("check-packaging.mjs");
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toMatch(/^packaging: OK/);
  });

  const defects: Array<[string, string, (t: string) => string, RegExp]> = [
    [
      "a root runtime user",
      "Dockerfile",
      (t) => t.replace(/^USER node$/m, "USER root"),
      /runs as root: use a non-root USER/,
    ],
    ["no runtime USER", "Dockerfile", (t) => t.replace(/^USER node\n/m, ""), /no USER/],
    [
      "an unpinned base",
      "Dockerfile",
      (t) => t.replace("FROM node:20.20.0-bookworm-slim AS runtime", "FROM node:20 AS runtime"),
      /node:20 is not pinned/,
    ],
    [
      "no HEALTHCHECK",
      "Dockerfile",
      (t) => t.replace(/^HEALTHCHECK[^\n]*\\\n[^\n]*\n/m, ""),
      /no HEALTHCHECK/,
    ],
    [
      "a shell-form ENTRYPOINT",
      "Dockerfile",
      (t) =>
        t.replace(
          'ENTRYPOINT ["node", "apps/worker/dist/cli.js"]',
          "ENTRYPOINT node apps/worker/dist/cli.js",
        ),
      /JSON \(exec\) form/,
    ],
    [
      ".env files in the build context",
      ".dockerignore",
      (t) => t.replace(/^\.env\.\*$/m, ""),
      /must exclude \.env and \.env\.\*/,
    ],
    [
      "a published Postgres",
      "deploy/compose.yaml",
      (t) =>
        t.replace(
          "  postgres:\n    image: postgres:15.10-bookworm\n",
          '  postgres:\n    image: postgres:15.10-bookworm\n    ports: ["5432:5432"]\n',
        ),
      /service postgres publishes port 5432:5432/,
    ],
    [
      "a worker port on all interfaces",
      "deploy/compose.yaml",
      (t) => t.replace('"127.0.0.1:8080:8080"', '"8080:8080"'),
      /bind it to 127\.0\.0\.1/,
    ],
    [
      "a literal password",
      "deploy/compose.yaml",
      (t) =>
        t.replace(
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolation, literally
          "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in deploy/.env}",
          "POSTGRES_PASSWORD: hunter2",
        ),
      /POSTGRES_PASSWORD is a literal/,
    ],
    [
      "readiness on /health",
      "charts/outbox-worker/templates/worker-job.yaml",
      (t) => t.replace("path: /ready", "path: /health"),
      /readinessProbe must GET \/ready/,
    ],
    [
      "a value templates use but values.yaml lacks",
      "charts/outbox-worker/values.yaml",
      (t) => t.replace(/^shutdownTimeoutMs: .*$/m, ""),
      /uses \.Values\.shutdownTimeoutMs, which values\.yaml does not declare/,
    ],
    [
      "unguarded generations",
      "charts/outbox-worker/templates/worker-job.yaml",
      (t) =>
        t.replace(/required "generations is required[^"]*" \.Values\.generations/, ".Values.generations"),
      /\.Values\.generations must be guarded by required/,
    ],
    [
      "migrations not a pre-upgrade hook",
      "charts/outbox-worker/templates/migrate-job.yaml",
      (t) => t.replace("pre-install,pre-upgrade", "post-install"),
      /pre-install,pre-upgrade hook Job/,
    ],
    [
      "a broken template YAML shape",
      "charts/outbox-worker/templates/service.yaml",
      (t) =>
        t.replace("  type: {{ $.Values.service.type }}", "type: {{ $.Values.service.type }}\n  - broken"),
      /valid YAML shape/,
    ],
    [
      "an unclosed block",
      "charts/outbox-worker/templates/servicemonitor.yaml",
      (t) => t.replace(/\{\{- end \}\}\n$/, ""),
      /2 block\(s\) opened, 1 closed/,
    ],
  ];
  for (const [what, file, fn, message] of defects) {
    it(`fails on ${what}`, () => {
      const dir = copy(PACKAGING);
      edit(dir, file, fn);
      const r = run("check-packaging.mjs", dir);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
    });
  }
});

describe("tools/deploy-manifest-check.mjs", () => {
  const MANIFEST_PATHS = [
    "deploy/manifest.json",
    "Dockerfile",
    "deploy/compose.yaml",
    "charts/outbox-worker/Chart.yaml",
    "deploy/k8s/base/kustomization.yaml",
    "packages/outbox/package.json",
    "packages/compat-lint/package.json",
    "apps/worker/package.json",
  ];

  it("passes on the repo: every folder under apps/ and packages/ is shipped or declared", () => {
    const r = run("deploy-manifest-check.mjs");
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toMatch(/apps\/worker \(outbox-worker container image/);
  });

  it("fails on a folder nobody ships, and passes once it is declared not deployed", () => {
    const dir = copy(MANIFEST_PATHS);
    mkdirSync(join(dir, "apps/admin-ui"), { recursive: true });
    const r = run("deploy-manifest-check.mjs", dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^deploy-manifest: apps\/admin-ui: not shipped by any deploy manifest/m);

    edit(dir, "deploy/manifest.json", (t) =>
      t.replace('"notDeployed": {}', '"notDeployed": { "apps/admin-ui": "internal tool, run locally only" }'),
    );
    expect(run("deploy-manifest-check.mjs", dir).code).toBe(0);
  });

  it("fails when a container manifest claims a folder its Dockerfile never copies", () => {
    const dir = copy(MANIFEST_PATHS);
    edit(dir, "Dockerfile", (t) =>
      t
        .replace(/^COPY packages\/outbox packages\/outbox\n/m, "")
        .replace(/^COPY .*packages\/outbox.*\n/gm, ""),
    );
    const r = run("deploy-manifest-check.mjs", dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Dockerfile has no COPY of packages\/outbox/);
  });

  it("fails on a worker variable a deploy manifest misspells (it would be silently ignored)", () => {
    const dir = copy([...MANIFEST_PATHS, "apps/worker/src", "deploy/k8s/base", "charts/outbox-worker"]);
    expect(run("deploy-manifest-check.mjs", dir).code).toBe(0);
    edit(dir, "deploy/k8s/base/worker-job.yaml", (t) =>
      t.replace("name: OUTBOX_RETIRE_QUIET_MS", "name: OUTBOX_RETIRE_QUIET"),
    );
    edit(dir, "deploy/compose.yaml", (t) => t.replace("LOG_LEVEL: ", "OUTBOX_LOGLEVEL: "));
    const r = run("deploy-manifest-check.mjs", dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^deploy-manifest: deploy\/k8s\/base\/worker-job\.yaml:\d+: OUTBOX_RETIRE_QUIET is not a variable the worker reads/m,
    );
    expect(r.err).toMatch(/^deploy-manifest: deploy\/compose\.yaml:\d+: OUTBOX_LOGLEVEL is not a variable/m);
  });

  it("fails on a stale entry and on a reasonless declaration", () => {
    const dir = copy(MANIFEST_PATHS);
    edit(dir, "deploy/manifest.json", (t) =>
      t.replace('"notDeployed": {}', '"notDeployed": { "packages/gone": "" }'),
    );
    const r = run("deploy-manifest-check.mjs", dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/notDeployed lists packages\/gone, which does not exist/);
    expect(r.err).toMatch(/notDeployed packages\/gone needs a reason/);
  });
});
