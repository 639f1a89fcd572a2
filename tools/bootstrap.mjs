#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs the
// dependencies (npm ci, from the committed lock file) when node_modules is
// missing or older than package-lock.json. Uses only Node built-ins, since it
// runs before anything is installed.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const marker = join(root, "node_modules", ".package-lock.json");
const lock = join(root, "package-lock.json");

const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  process.stdout.write("[bootstrap] installing dependencies (npm ci) ...\n");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const res = spawnSync(npm, ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (res.status !== 0) {
    process.stderr.write(`[bootstrap] npm ci failed with exit code ${res.status}\n`);
    process.exit(res.status ?? 1);
  }
}
