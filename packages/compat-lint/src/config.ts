import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ruleById } from "./rules/index.js";

export type RuleSetting = "error" | "warning" | "off";

/** compat-lint's settings; every field is optional in a config file. */
export interface Config {
  /** Per-rule severity overrides. Default: each rule's own (contract rules error, lock rules warning). */
  rules: Record<string, RuleSetting>;
  /** Schemas unqualified names resolve against, first one receives new objects. Default: ["public"]. */
  searchPath: string[];
  /** Postgres major version the migrations run on; changes lock findings. Default: 17. */
  pgVersion: number;
}

export const defaultConfig: Readonly<Config> = Object.freeze({
  rules: {},
  searchPath: ["public"],
  pgVersion: 17,
});

/** Config files looked for in the working directory when --config is not given. */
export const configFileNames = ["compat-lint.json", ".compat-lint.json"];

/** A bad option or config value; the CLI exits 2 with its message. */
export class ConfigError extends Error {
  readonly code = "COMPAT_LINT_CONFIG";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ConfigError";
  }
}

const settings = new Set(["error", "warning", "off"]);

/** Validates a parsed config object; `where` names its source in error messages. */
export function validateConfig(raw: unknown, where: string): Partial<Config> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(`${where}: expected a JSON object`);
  }
  const out: Partial<Config> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === "$schema") continue;
    if (k === "rules") {
      if (v === null || typeof v !== "object" || Array.isArray(v)) {
        throw new ConfigError(
          `${where}: "rules" must be an object of rule id -> "error" | "warning" | "off"`,
        );
      }
      out.rules = {};
      for (const [id, s] of Object.entries(v)) {
        checkRule(id, s, `${where}: rules`);
        out.rules[id] = s as RuleSetting;
      }
    } else if (k === "searchPath") {
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "string" && x !== "")) {
        throw new ConfigError(`${where}: "searchPath" must be a non-empty array of schema names`);
      }
      out.searchPath = v as string[];
    } else if (k === "pgVersion") {
      // JSON has numbers: only the --pg-version flag, which is text by nature, takes digits.
      if (typeof v !== "number") {
        throw new ConfigError(
          `${where}: "pgVersion" must be a number (a Postgres major version such as 17), got ${JSON.stringify(v)}`,
        );
      }
      out.pgVersion = checkVersion(v, `${where}: "pgVersion"`);
    } else {
      throw new ConfigError(`${where}: unknown option "${k}" (known: rules, searchPath, pgVersion)`);
    }
  }
  return out;
}

export function checkRule(id: string, setting: unknown, where: string): void {
  if (!ruleById.has(id)) throw new ConfigError(`${where}: unknown rule id "${id}"`);
  if (typeof setting !== "string" || !settings.has(setting)) {
    throw new ConfigError(
      `${where}: rule "${id}" must be "error", "warning" or "off", got ${JSON.stringify(setting)}`,
    );
  }
}

export function checkVersion(v: unknown, where: string): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 9 || n > 99) {
    throw new ConfigError(
      `${where} must be a Postgres major version between 9 and 99, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

/** Reads the config file (explicit path, or the first default name found in cwd). */
export function loadConfigFile(cwd: string, explicit: string | undefined): Partial<Config> {
  const path = explicit
    ? resolve(cwd, explicit)
    : configFileNames.map((n) => resolve(cwd, n)).find((p) => existsSync(p));
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(jsonProblem(path, text, (err as Error).message), { cause: err });
  }
  return validateConfig(raw, path);
}

/**
 * `file:line:col: invalid JSON: <problem>`. JSON.parse names a character offset ("at position
 * 31") in some Node versions and a line and column in others; both become the file's line and
 * 1-based column here, so an editor can jump to it. (Some messages, such as
 * "Unexpected token", carry no position; they are shown with the file alone.)
 */
function jsonProblem(path: string, text: string, message: string): string {
  const problem = message
    .replace(/\s*\(line \d+ column \d+\)/, "")
    .replace(/ in JSON at position \d+/, "")
    .replace(/ at position \d+/, "");
  if (text.trim() === "") return `${path}: invalid JSON: the file is empty`;
  const at = /at position (\d+)/.exec(message);
  // Without a position, only "Unexpected end of JSON input" says where: at the end.
  if (!at && !/end of JSON input/.test(message)) return `${path}: invalid JSON: ${problem}`;
  const offset = Math.min(at ? Number(at[1]) : text.length, text.length);
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = [...before.slice(before.lastIndexOf("\n") + 1)].length + 1;
  return `${path}:${line}:${column}: invalid JSON: ${problem}`;
}

/** Layers: defaults < config file < flags. */
export function mergeConfig(...layers: Partial<Config>[]): Config {
  const out: Config = {
    rules: {},
    searchPath: [...defaultConfig.searchPath],
    pgVersion: defaultConfig.pgVersion,
  };
  for (const l of layers) {
    if (l.rules) out.rules = { ...out.rules, ...l.rules };
    if (l.searchPath) out.searchPath = [...l.searchPath];
    if (l.pgVersion !== undefined) out.pgVersion = l.pgVersion;
  }
  return out;
}
