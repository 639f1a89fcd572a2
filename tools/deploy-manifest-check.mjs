#!/usr/bin/env node
// Deploy-manifest coverage: every folder under apps/ and packages/ is shipped
// by an artifact of deploy/manifest.json, or declared in its notDeployed map
// with a reason. Also checks that each artifact's manifest exists and really
// ships what it claims (a container's Dockerfile COPYs the folder; an npm
// package is not private), and that every OUTBOX_* / CUTOVER_* variable a
// deploy manifest (Compose, Helm, Kustomize) names is one the worker reads, so
// a misspelled variable is not silently ignored. Exit 0 when covered, 1 with
// one line per problem.
//
//   node tools/deploy-manifest-check.mjs [--root DIR]
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const rootArg = args.indexOf("--root");
const root = rootArg >= 0 ? args[rootArg + 1] : fileURLToPath(new URL("..", import.meta.url));
const MANIFEST = "deploy/manifest.json";
const SCANNED = ["apps", "packages"];
const KINDS = new Set(["container", "helm", "kustomize", "compose", "npm"]);
/** Kinds whose manifests set the worker's environment: the folder of the manifest (or the file) is scanned. */
const CONFIGURES_WORKER = new Set(["helm", "kustomize", "compose"]);
const WORKER_SOURCES = "apps/worker/src";
const VARIABLE = /\b((?:OUTBOX|CUTOVER)_[A-Z0-9_]*[A-Z0-9])\b/g;

const problems = [];
const problem = (msg) => problems.push(msg);

let manifest;
try {
  manifest = JSON.parse(readFileSync(join(root, MANIFEST), "utf8"));
} catch (err) {
  console.error(`deploy-manifest: cannot read ${MANIFEST}: ${err.message}`);
  process.exit(1);
}

const artifacts = Array.isArray(manifest.artifacts) ? manifest.artifacts : [];
const notDeployed =
  manifest.notDeployed && typeof manifest.notDeployed === "object" ? manifest.notDeployed : {};
if (!Array.isArray(manifest.artifacts)) problem(`${MANIFEST}: "artifacts" must be an array`);

const folders = SCANNED.flatMap((top) =>
  existsSync(join(root, top))
    ? readdirSync(join(root, top), { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith("."))
        .map((e) => `${top}/${e.name}`)
    : [],
).sort();

const shippedBy = new Map();
for (const [i, a] of artifacts.entries()) {
  const label = `${MANIFEST}: artifact ${a?.name ? JSON.stringify(a.name) : `#${i}`}`;
  if (
    !a ||
    typeof a.name !== "string" ||
    !KINDS.has(a.kind) ||
    typeof a.manifest !== "string" ||
    !Array.isArray(a.ships)
  ) {
    problem(`${label}: needs name, kind (${[...KINDS].join("|")}), manifest and ships[]`);
    continue;
  }
  const manifestPath = join(root, a.manifest);
  if (!existsSync(manifestPath)) {
    problem(`${label}: manifest ${a.manifest} does not exist`);
    continue;
  }
  const text = readFileSync(manifestPath, "utf8");
  for (const folder of a.ships) {
    if (!existsSync(join(root, folder))) problem(`${label}: ships ${folder}, which does not exist`);
    if (!shippedBy.has(folder)) shippedBy.set(folder, []);
    shippedBy.get(folder).push(a.name);
    if (a.kind === "container") {
      const copies = text
        .split("\n")
        .filter((l) => /^\s*COPY\s/i.test(l))
        .some((l) => l.split(/\s+/).some((w) => w === folder || w.startsWith(`${folder}/`)));
      if (!copies) problem(`${label}: ${a.manifest} has no COPY of ${folder}`);
    }
  }
  if (a.kind === "npm") {
    let pkg;
    try {
      pkg = JSON.parse(text);
    } catch {
      problem(`${label}: ${a.manifest} is not valid JSON`);
      continue;
    }
    if (pkg.private === true) problem(`${label}: ${a.manifest} is private, so npm never ships it`);
    const dir = a.manifest.replace(/\/package\.json$/, "");
    if (!a.ships.includes(dir)) problem(`${label}: an npm package ships its own folder (${dir})`);
  }
}

/** Every file under `dir` (or `dir` itself when it is a file). */
function filesUnder(dir) {
  if (!statSync(dir).isDirectory()) return [dir];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

// The variables the worker reads: every quoted OUTBOX_* / CUTOVER_* name in its sources.
if (existsSync(join(root, WORKER_SOURCES))) {
  const known = new Set();
  for (const f of filesUnder(join(root, WORKER_SOURCES)).filter((f) => f.endsWith(".ts"))) {
    for (const m of readFileSync(f, "utf8").matchAll(/["'`]((?:OUTBOX|CUTOVER)_[A-Z0-9_]+)["'`]/g))
      known.add(m[1]);
  }
  for (const a of artifacts.filter((x) => CONFIGURES_WORKER.has(x?.kind) && typeof x.manifest === "string")) {
    const manifestPath = join(root, a.manifest);
    if (!existsSync(manifestPath)) continue;
    // A Kustomize base/ is scanned with its siblings (overlays, hook Jobs): the Kustomize convention.
    const dir = dirname(manifestPath);
    const scanned =
      a.kind === "compose"
        ? manifestPath
        : a.kind === "kustomize" && dir.endsWith("/base")
          ? dirname(dir)
          : dir;
    for (const f of filesUnder(scanned).filter((f) => /\.(ya?ml|tpl|sh)$/.test(f))) {
      const lines = readFileSync(f, "utf8").split("\n");
      lines.forEach((line, i) => {
        // ${VAR} is Compose interpolation from the deploying shell, not the worker's environment.
        for (const m of line.replace(/\$\{[^}]*\}/g, "").matchAll(VARIABLE)) {
          if (!known.has(m[1]))
            problem(
              `${relative(root, f)}:${i + 1}: ${m[1]} is not a variable the worker reads (${WORKER_SOURCES}); it would be silently ignored`,
            );
        }
      });
    }
  }
}

for (const [folder, reason] of Object.entries(notDeployed)) {
  if (!existsSync(join(root, folder)))
    problem(`${MANIFEST}: notDeployed lists ${folder}, which does not exist`);
  if (typeof reason !== "string" || reason.trim().length < 10) {
    problem(`${MANIFEST}: notDeployed ${folder} needs a reason (why it is not shipped)`);
  }
  if (shippedBy.has(folder)) problem(`${MANIFEST}: ${folder} is both shipped and declared not deployed`);
}

for (const folder of folders) {
  if (!shippedBy.has(folder) && !Object.hasOwn(notDeployed, folder)) {
    problem(
      `${folder}: not shipped by any deploy manifest and not declared in ${MANIFEST} notDeployed — add it to an artifact's "ships" or to "notDeployed" with a reason`,
    );
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(`deploy-manifest: ${p}`);
  console.error(`deploy-manifest: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(
  `deploy-manifest: OK — ${folders.length} folders covered: ${folders
    .map((f) => `${f} (${shippedBy.has(f) ? shippedBy.get(f).join(", ") : "not deployed"})`)
    .join("; ")}`,
);
