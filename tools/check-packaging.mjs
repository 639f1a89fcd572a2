#!/usr/bin/env node
// Static checks of the worker's packaging, for CI where no Docker engine or
// helm binary runs: the Dockerfile (hadolint-style rules), .dockerignore, the
// Compose example and the Helm chart (YAML parses, every .Values path a
// template uses is declared in values.yaml, required values are guarded,
// probes and hooks are wired). Exit 0 clean, 1 with one line per problem.
//
//   node tools/check-packaging.mjs [--root DIR]
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, parse as parseYaml } from "yaml";

const args = process.argv.slice(2);
const rootArg = args.indexOf("--root");
const root = rootArg >= 0 ? args[rootArg + 1] : fileURLToPath(new URL("..", import.meta.url));
const problems = [];
const problem = (file, msg) => problems.push(`${file}: ${msg}`);
const read = (rel) => {
  const p = join(root, rel);
  if (!existsSync(p)) {
    problem(rel, "missing");
    return null;
  }
  return readFileSync(p, "utf8");
};

// ---------------------------------------------------------------- Dockerfile

/**
 * Node release lines the packages support and CI tests (engines: >=20.19):
 * the LTS lines still maintained or, for 20, still used by peers
 * (graphile-worker 0.17 runs on it). Odd lines never become LTS.
 */
const NODE_LTS = [20, 22, 24];

/** Instructions with continuation lines joined; comments dropped. */
function instructions(text) {
  const out = [];
  let current = "";
  let line0 = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (current === "" && (line === "" || line.startsWith("#"))) return;
    if (current === "") line0 = i + 1;
    current += `${line.replace(/\\$/, "").trim()} `;
    if (!line.endsWith("\\")) {
      const [op, ...rest] = current.trim().split(/\s+/);
      out.push({ op: op.toUpperCase(), args: rest.join(" "), line: line0 });
      current = "";
    }
  });
  return out;
}

function checkDockerfile() {
  const file = "Dockerfile";
  const text = read(file);
  if (text === null) return;
  const ins = instructions(text);
  const froms = ins.filter((i) => i.op === "FROM");
  if (froms.length < 2) problem(file, "must be multi-stage (build stage + slim runtime stage)");
  const stages = new Set();
  for (const f of froms) {
    const [image, as, name] = f.args.split(/\s+/);
    if (as?.toUpperCase() === "AS" && name) stages.add(name);
    if (stages.has(image)) continue;
    const pinnedDigest = /@sha256:[0-9a-f]{64}$/.test(image);
    const tag = image.includes(":") ? image.split(":").pop() : "";
    const pinnedTag = /^\d+\.\d+\.\d+([-.][\w.-]+)?$/.test(tag);
    if (!pinnedDigest && !pinnedTag) {
      problem(
        file,
        `line ${f.line}: base image ${image} is not pinned (use an exact version tag like node:24.21.0-bookworm-slim, or a digest)`,
      );
    }
    const major = /^node:(\d+)\./.exec(image)?.[1];
    if (image.startsWith("node:") && !NODE_LTS.includes(Number(major)))
      problem(
        file,
        `line ${f.line}: base must be a supported Node LTS line (${NODE_LTS.join(", ")}; the engines range), not ${image}`,
      );
  }
  const lastFrom = ins.lastIndexOf(froms.at(-1));
  const final = ins.slice(lastFrom + 1);
  const users = final.filter((i) => i.op === "USER");
  const user = users.at(-1)?.args.split(":")[0];
  if (!user) problem(file, "final stage has no USER: the runtime must not run as root");
  else if (user === "root" || user === "0") problem(file, `final stage runs as ${user}: use a non-root USER`);
  if (!final.some((i) => i.op === "HEALTHCHECK" && !/^NONE\b/i.test(i.args)))
    problem(file, "final stage has no HEALTHCHECK");
  else if (!final.some((i) => i.op === "HEALTHCHECK" && i.args.includes("/health")))
    problem(file, "HEALTHCHECK must probe /health");
  for (const i of ins) {
    const where = `line ${i.line}`;
    if (i.op === "ADD" && /https?:\/\//.test(i.args))
      problem(file, `${where}: ADD of a URL; download with a pinned checksum or COPY (DL3020)`);
    if (i.op === "ADD" && !/\.(tar|tgz|tar\.gz)\b/.test(i.args))
      problem(file, `${where}: use COPY for files and folders (DL3020)`);
    if ((i.op === "CMD" || i.op === "ENTRYPOINT") && !i.args.startsWith("["))
      problem(file, `${where}: ${i.op} must use the JSON (exec) form so signals reach node (DL3025)`);
    if (i.op === "WORKDIR" && !i.args.startsWith("/"))
      problem(file, `${where}: WORKDIR must be absolute (DL3000)`);
    if (i.op === "RUN" && /\bsudo\b/.test(i.args)) problem(file, `${where}: no sudo in RUN (DL3004)`);
    if (i.op === "RUN" && /\bnpm (install|i)\b/.test(i.args))
      problem(file, `${where}: use npm ci (reproducible from the lock file)`);
    if (i.op === "RUN" && /apt-get install/.test(i.args) && !/--no-install-recommends/.test(i.args))
      problem(file, `${where}: apt-get install needs --no-install-recommends (DL3015)`);
    if (i.op === "RUN" && /(curl|wget)[^|]*\|\s*(ba)?sh/.test(i.args))
      problem(file, `${where}: piping a download into a shell`);
    if ((i.op === "ENV" || i.op === "ARG") && /(PASSWORD|SECRET|TOKEN|DATABASE_URL)\s*=/i.test(i.args))
      problem(file, `${where}: secrets never go into the image (${i.op})`);
    if (i.op === "COPY" && /(^|\s)\.env/.test(i.args)) problem(file, `${where}: never COPY .env files`);
  }
  if (!final.some((i) => i.op === "ENTRYPOINT" && i.args.includes("cli.js")))
    problem(file, "final stage ENTRYPOINT must run the outbox-worker CLI");
}

function checkDockerignore() {
  const file = ".dockerignore";
  const text = read(file);
  if (text === null) return;
  const lines = new Set(
    text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#")),
  );
  const coversEnv = lines.has(".env*") || (lines.has(".env") && lines.has(".env.*"));
  if (!coversEnv) problem(file, "must exclude .env and .env.* (secrets stay out of the build context)");
  if (!lines.has("node_modules") && !lines.has("**/node_modules")) problem(file, "must exclude node_modules");
  if (!lines.has(".git")) problem(file, "must exclude .git");
}

// ---------------------------------------------------------------- Compose

function checkCompose() {
  const file = "deploy/compose.yaml";
  const text = read(file);
  if (text === null) return;
  let doc;
  try {
    doc = parseYaml(text, { merge: true });
  } catch (err) {
    problem(file, `not valid YAML: ${err.message.split("\n")[0]}`);
    return;
  }
  const services = doc?.services ?? {};
  for (const name of ["postgres", "migrate", "worker"])
    if (!services[name]) problem(file, `needs a "${name}" service`);
  const PUBLIC = new Set(["worker"]);
  for (const [name, svc] of Object.entries(services)) {
    for (const p of svc.ports ?? []) {
      const spec =
        typeof p === "object" ? `${p.host_ip ?? ""}:${p.published ?? ""}:${p.target ?? ""}` : String(p);
      if (!PUBLIC.has(name))
        problem(
          file,
          `service ${name} publishes port ${spec}: only the worker's health/metrics port is published`,
        );
      else if (!/^127\.0\.0\.1:/.test(spec))
        problem(
          file,
          `service ${name} publishes ${spec} on all interfaces: bind it to 127.0.0.1 (or front it with a proxy)`,
        );
    }
    if (
      typeof svc.image === "string" &&
      (/:latest$/.test(svc.image) || (!svc.image.includes(":") && !svc.image.includes("$")))
    ) {
      problem(file, `service ${name}: image ${svc.image} is not pinned`);
    }
    const env = svc.environment ?? {};
    const entries = Array.isArray(env) ? env.map((e) => e.split("=")) : Object.entries(env);
    for (const [k, v] of entries) {
      if (/PASSWORD|SECRET|TOKEN/i.test(k) && v && !String(v).includes("${"))
        problem(file, `service ${name}: ${k} is a literal; take it from the environment (\${VAR})`);
      if (k === "DATABASE_URL" && /:\/\/[^:]+:(?!\$\{)[^@]+@/.test(String(v)))
        problem(file, `service ${name}: DATABASE_URL holds a literal password`);
    }
  }
  const worker = services.worker;
  if (worker) {
    const env = worker.environment ?? {};
    for (const k of ["DATABASE_URL", "OUTBOX_HANDLERS"]) if (!(k in env)) problem(file, `worker needs ${k}`);
    if (!("CUTOVER_GENERATION" in env) && !("CUTOVER_GENERATION_FILE" in env))
      problem(file, "worker needs CUTOVER_GENERATION or CUTOVER_GENERATION_FILE");
    if (worker.depends_on?.migrate?.condition !== "service_completed_successfully") {
      problem(file, "worker must depend on migrate with condition service_completed_successfully");
    }
    // `docker compose up` alone must start it: a generation the worker needs at start
    // cannot be a required variable (it fails before Postgres is up), so it comes from
    // a one-shot service that ran first.
    const genVar = String(env.CUTOVER_GENERATION ?? "");
    if (/\$\{CUTOVER_GENERATION:\?/.test(genVar))
      problem(
        file,
        "worker requires CUTOVER_GENERATION from the shell: `docker compose up` fails before Postgres starts",
      );
    if ("CUTOVER_GENERATION_FILE" in env) {
      const writer = Object.entries(services).find(
        ([n, s]) => n !== "worker" && JSON.stringify(s.command ?? "").includes("generation allocate"),
      );
      if (!writer)
        problem(file, "CUTOVER_GENERATION_FILE needs a one-shot service that runs `generation allocate`");
      else if (worker.depends_on?.[writer[0]]?.condition !== "service_completed_successfully")
        problem(file, `worker must depend on ${writer[0]} with condition service_completed_successfully`);
    }
  }
  if (services.migrate && !JSON.stringify(services.migrate.command ?? "").includes("migrate"))
    problem(file, "migrate service must run `migrate`");
}

// ---------------------------------------------------------------- Helm

const TEMPLATE_ONLY = /^\s*\{\{-?\s*(if|else|end|with|range|define|\$[\w]+\s*:=|\/\*).*\}\}\s*$/;

/**
 * Template text with control lines removed and {{ }} expressions replaced, so
 * its YAML shape can be parsed. A line holding only an expression (include /
 * toYaml ... | nindent N) becomes a placeholder entry shaped like its
 * siblings: a list item before "- " lines, else a mapping key.
 */
function skeleton(text) {
  const lines = text.split("\n").filter((l) => !TEMPLATE_ONLY.test(l));
  const out = [];
  let n = 0;
  lines.forEach((line, i) => {
    const only = /^(\s*)\{\{-?(.*?)-?\}\}\s*$/.exec(line);
    if (!only) {
      out.push(line.replace(/\{\{-?.*?-?\}\}/g, "x"));
      return;
    }
    const nindent = /\bn?indent\s+(\d+)/.exec(only[2]);
    const indent = " ".repeat(nindent ? Number(nindent[1]) : only[1].length);
    const next = lines.slice(i + 1).find((l) => l.trim() !== "" && !/^\s*\{\{/.test(l));
    const prev = [...out]
      .reverse()
      .find((l) => l.trim() !== "" && l.length - l.trimStart().length <= indent.length);
    const sibling = [next, prev].some((l) => l?.startsWith(`${indent}- `));
    out.push(sibling ? `${indent}- x` : `${indent}x_${n++}: x`);
  });
  return out.join("\n");
}

function hasPath(values, path) {
  let node = values;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return false;
    node = node[key];
  }
  return true;
}

function checkChart() {
  const dir = "charts/outbox-worker";
  const chartText = read(`${dir}/Chart.yaml`);
  const valuesText = read(`${dir}/values.yaml`);
  if (chartText === null || valuesText === null) return;
  let chart;
  let values;
  try {
    chart = parseYaml(chartText);
  } catch (err) {
    problem(`${dir}/Chart.yaml`, `not valid YAML: ${err.message.split("\n")[0]}`);
  }
  try {
    values = parseYaml(valuesText);
  } catch (err) {
    problem(`${dir}/values.yaml`, `not valid YAML: ${err.message.split("\n")[0]}`);
    return;
  }
  if (chart) {
    if (chart.apiVersion !== "v2") problem(`${dir}/Chart.yaml`, "apiVersion must be v2");
    for (const k of ["name", "version", "appVersion"])
      if (!chart[k]) problem(`${dir}/Chart.yaml`, `needs ${k}`);
  }
  if (values.image?.tag === "latest") problem(`${dir}/values.yaml`, "image.tag must be pinned, not latest");
  if (!("generations" in values))
    problem(`${dir}/values.yaml`, "must declare generations (the generations to run, set per deploy)");

  const tdir = join(root, dir, "templates");
  if (!existsSync(tdir)) {
    problem(`${dir}/templates`, "missing");
    return;
  }
  const templates = Object.fromEntries(
    readdirSync(tdir)
      .filter((f) => /\.(ya?ml|tpl)$/.test(f))
      .map((f) => [f, readFileSync(join(tdir, f), "utf8")]),
  );
  for (const f of [
    "worker-job.yaml",
    "pdb.yaml",
    "networkpolicy.yaml",
    "migrate-job.yaml",
    "drain-job.yaml",
    "servicemonitor.yaml",
    "_helpers.tpl",
  ]) {
    if (!templates[f]) problem(`${dir}/templates/${f}`, "missing");
  }
  const allText = Object.values(templates).join("\n");
  for (const [f, text] of Object.entries(templates)) {
    for (const m of text.matchAll(/\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      const path = m[1].slice(1).split(".");
      if (!hasPath(values, path))
        problem(
          `${dir}/templates/${f}`,
          `uses .Values.${path.join(".")}, which values.yaml does not declare`,
        );
    }
    const opens = (text.match(/\{\{-?\s*(if|with|range|define)\b/g) ?? []).length;
    const ends = (text.match(/\{\{-?\s*end\b/g) ?? []).length;
    if (opens !== ends) problem(`${dir}/templates/${f}`, `${opens} block(s) opened, ${ends} closed`);
  }
  for (const v of ["generations", "database.existingSecret", "drain.generation"]) {
    // The worker Job is where a generation is served: its own guard, not only a helper's.
    const text = v === "generations" ? (templates["worker-job.yaml"] ?? "") : allText;
    if (!new RegExp(`required\\s+"[^"]+"\\s+\\$?\\.Values\\.${v.replace(".", "\\.")}\\b`).test(text)) {
      problem(`${dir}/templates`, `.Values.${v} must be guarded by required "<message>"`);
    }
  }
  const docs = {};
  for (const [f, text] of Object.entries(templates)) {
    if (f.endsWith(".tpl")) continue;
    try {
      const parsed = parseAllDocuments(skeleton(text));
      const errors = parsed.flatMap((d) => d.errors);
      if (errors.length > 0) throw errors[0];
      docs[f] = parsed.map((d) => d.toJSON()).filter(Boolean);
    } catch (err) {
      problem(
        `${dir}/templates/${f}`,
        `does not have a valid YAML shape: ${String(err.message).split("\n")[0]}`,
      );
    }
  }
  // One worker Job per generation (docs/kubernetes.md: it completes when its generation retires).
  const workerJob = docs["worker-job.yaml"]?.find((d) => d.kind === "Job");
  const container = workerJob?.spec?.template?.spec?.containers?.[0];
  if (!container) problem(`${dir}/templates/worker-job.yaml`, "needs a Job with a container");
  else {
    if (container.livenessProbe?.httpGet?.path !== "/health")
      problem(`${dir}/templates/worker-job.yaml`, "livenessProbe must GET /health");
    if (container.readinessProbe?.httpGet?.path !== "/ready")
      problem(`${dir}/templates/worker-job.yaml`, "readinessProbe must GET /ready");
    const envNames = (container.env ?? []).map((e) => e.name);
    for (const k of ["DATABASE_URL", "CUTOVER_GENERATION", "OUTBOX_HANDLERS"]) {
      if (!envNames.includes(k) && !templates["_helpers.tpl"]?.includes(`name: ${k}`))
        problem(`${dir}/templates/worker-job.yaml`, `container env needs ${k}`);
    }
    const dbEnv = templates["_helpers.tpl"] ?? "";
    if (!/name: DATABASE_URL\s+valueFrom:\s+secretKeyRef:/.test(dbEnv))
      problem(`${dir}/templates/_helpers.tpl`, "DATABASE_URL must come from a Secret (secretKeyRef)");
  }
  const migrateJob = docs["migrate-job.yaml"]?.find((d) => d.kind === "Job");
  const hook = migrateJob?.metadata?.annotations?.["helm.sh/hook"] ?? "";
  if (!hook.includes("pre-upgrade") || !hook.includes("pre-install"))
    problem(`${dir}/templates/migrate-job.yaml`, "must be a pre-install,pre-upgrade hook Job");
  if (!JSON.stringify(migrateJob?.spec?.template?.spec?.containers?.[0]?.args ?? []).includes("migrate"))
    problem(`${dir}/templates/migrate-job.yaml`, "must run `migrate`");
  if (!/\.Values\.drain\.enabled/.test(templates["drain-job.yaml"] ?? ""))
    problem(`${dir}/templates/drain-job.yaml`, "must be optional (drain.enabled)");
  if (!/\.Values\.serviceMonitor\.enabled/.test(templates["servicemonitor.yaml"] ?? ""))
    problem(`${dir}/templates/servicemonitor.yaml`, "must be optional (serviceMonitor.enabled)");
  const sm = docs["servicemonitor.yaml"]?.find((d) => d.kind === "ServiceMonitor");
  if (sm && sm.spec?.endpoints?.[0]?.path !== "/metrics")
    problem(`${dir}/templates/servicemonitor.yaml`, "must scrape /metrics");
  if (values.podSecurityContext?.runAsNonRoot !== true)
    problem(`${dir}/values.yaml`, "podSecurityContext.runAsNonRoot must be true");
}

// ---------------------------------------------------------- package manifests

/**
 * JSON.parse keeps the last of two equal keys without a word, so a manifest
 * with two "peerDependencies" objects silently drops the first (this
 * happened: zod and kysely stopped being declared peers). YAML 1.2 is a
 * superset of JSON and the yaml parser refuses duplicate keys.
 */
function checkManifests() {
  for (const rel of [
    "package.json",
    "packages/outbox/package.json",
    "packages/compat-lint/package.json",
    "apps/worker/package.json",
    "tools/package.json",
  ]) {
    const text = read(rel);
    if (text === null) continue;
    try {
      parseYaml(text);
    } catch (err) {
      problem(rel, `invalid manifest: ${String(err.message).split("\n")[0]}`);
    }
  }
}

checkManifests();
checkDockerfile();
checkDockerignore();
checkCompose();
checkChart();

if (problems.length > 0) {
  for (const p of problems) console.error(`packaging: ${p}`);
  console.error(`packaging: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(
  "packaging: OK — package manifests, Dockerfile, .dockerignore, deploy/compose.yaml, charts/outbox-worker",
);
