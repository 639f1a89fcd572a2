#!/usr/bin/env node
// Builds compat-lint's optional native parser (libpg-query-native, i.e. libpg-query@17.1.0's
// N-API addon) from its npm tarball, without the network access its own install needs:
//
//   node packages/compat-lint/scripts/build-native.mjs
//
// Why: the package's install script (node-pre-gyp) downloads a prebuilt binary, and when that
// fails, builds from source after git-cloning libpg_query. Where neither is reachable (a CI
// runner behind a proxy that only passes the npm registry), npm drops the optional dependency
// and compat-lint parses with WASM, so the native path would go untested there. The tarball
// already holds everything the addon needs (libpg_query's static libraries for linux and
// macOS and its header); only the build step that clones is in the way. This script:
//
//   1. fetches the tarballs of the exact versions package-lock.json pins (npm pack, the
//      registry npm ci used) and checks them against the lock's integrity hashes;
//   2. unpacks libpg-query into node_modules/libpg-query-native (where compat-lint looks for it),
//      with node-addon-api (headers the build includes) in its own node_modules;
//   3. drops binding.gyp's "actions" (the git clone) and runs npm's bundled node-gyp against the
//      Node headers installed next to this node (or node-gyp's download when there are none);
//   4. loads the addon and parses a statement with it.
//
// Any failure exits non-zero with the step that failed: CI must not go green without the
// native path. Re-running rebuilds from scratch.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const target = join(root, "node_modules/libpg-query-native");

function fail(step, detail) {
  process.stderr.write(`build-native: ${step} failed${detail ? `:\n${detail}` : ""}\n`);
  process.exit(1);
}

function run(step, cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.error || r.status !== 0)
    fail(step, `${cmd} ${args.join(" ")}\n${r.error?.message ?? ""}${r.stdout ?? ""}${r.stderr ?? ""}`);
  return r.stdout;
}

// 1. The pinned versions and their integrity, from the lock.
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
const pinned = (path) => {
  const entry = lock.packages?.[path];
  if (!entry?.version || !entry.integrity) fail("reading package-lock.json", `no pinned ${path}`);
  return entry;
};
const native = pinned("node_modules/libpg-query-native");
const napi = pinned("node_modules/node-addon-api");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const work = mkdtempSync(join(tmpdir(), "compat-lint-native-"));
function fetchTarball(spec, integrity) {
  const out = JSON.parse(
    run(`npm pack ${spec}`, npm, ["pack", spec, "--json", "--pack-destination", work], work),
  );
  const file = join(work, out[0].filename);
  const [algo, expected] = integrity.split("-", 2);
  const actual = createHash(algo).update(readFileSync(file)).digest("base64");
  if (actual !== expected)
    fail(`checking ${spec}`, `integrity ${algo}-${actual}, package-lock.json pins ${integrity}`);
  return file;
}
const nativeTgz = fetchTarball(`libpg-query@${native.version}`, native.integrity);
const napiTgz = fetchTarball(`node-addon-api@${napi.version}`, napi.integrity);

// 2. Unpack.
rmSync(target, { recursive: true, force: true });
mkdirSync(join(target, "node_modules/node-addon-api"), { recursive: true });
run("unpacking libpg-query", "tar", ["xzf", nativeTgz, "-C", target, "--strip-components=1"]);
run("unpacking node-addon-api", "tar", [
  "xzf",
  napiTgz,
  "-C",
  join(target, "node_modules/node-addon-api"),
  "--strip-components=1",
]);

// 3. binding.gyp without the actions (a Python literal that is also a JS expression).
const gypPath = join(target, "binding.gyp");
let gyp;
try {
  gyp = new Function(`return (${readFileSync(gypPath, "utf8")});`)();
} catch (err) {
  fail("reading binding.gyp", String(err));
}
for (const t of gyp.targets)
  for (const c of t.conditions ?? []) for (const part of c.slice(1)) delete part.actions;
writeFileSync(gypPath, JSON.stringify(gyp, null, 1));
const header = join(target, "libpg_query/include/pg_query.h");
if (!existsSync(header)) fail("checking the tarball", `${header} is missing`);

const npmRoot = run("npm root -g", npm, ["root", "-g"]).trim();
const nodeGyp = [
  process.env.npm_config_node_gyp,
  join(npmRoot, "npm/node_modules/node-gyp/bin/node-gyp.js"),
  join(dirname(process.execPath), "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"),
].find((p) => p && existsSync(p));
if (!nodeGyp) fail("finding node-gyp", "npm's bundled node-gyp was not found (npm root -g)");
const prefix = join(dirname(process.execPath), "..");
const nodedir = existsSync(join(prefix, "include/node/node_api.h")) ? [`--nodedir=${prefix}`] : [];
const started = Date.now();
run("node-gyp rebuild", process.execPath, [nodeGyp, "rebuild", ...nodedir], target);

// 4. Load it and parse.
const addonPath = join(target, "build/Release/queryparser.node");
let tree;
try {
  const addon = createRequire(import.meta.url)(addonPath);
  tree = JSON.parse(addon.parseQuerySync("ALTER TABLE t ADD COLUMN c int;"));
} catch (err) {
  fail("loading the built addon", String(err?.stack ?? err));
}
if (!tree?.stmts?.[0]?.stmt?.AlterTableStmt) fail("parsing with the built addon", JSON.stringify(tree));
rmSync(work, { recursive: true, force: true });
process.stdout.write(
  `build-native: ${addonPath} (libpg-query ${native.version}) built in ${((Date.now() - started) / 1000).toFixed(0)} s and parses\n`,
);
