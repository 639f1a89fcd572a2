import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ruleById } from "../rules/index.js";

export type RuleSetting = "error" | "warning" | "off";

/** compat-lint's settings; every field is optional in a config file. */
export interface Config {
  /** Per-rule severity overrides. Default: each rule's own (contract rules error, lock rules warning). */
  rules: Record<string, RuleSetting>;
  /** Schemas unqualified names resolve against, first one receives new objects. Default: ["public"]. */
  searchPath: string[];
  /** Postgres major version the migrations run on; changes lock findings. Default: 17. */
  pgVersion: number;
  /**
   * Which files form one change set when no --since ref says so (what a change set creates,
   * it may also change or drop). Default: "auto".
   * - "auto": popx's split versions (`<14-digit timestamp><6-digit step>_name...up.sql`: the files
   *   sharing a timestamp), a folder per migration (Prisma's `<folder>/migration.sql`, Diesel's
   *   `<folder>/up.sql`); any other file is a change set of its own.
   * - "file": every file is its own change set.
   * - "folder": the files of one folder form a change set.
   * - { "pattern": "<regex>" }: files whose names give the same first capture group (or the
   *   same match, without a group) form a change set; a file the pattern does not match is its own.
   */
  changeSets: ChangeSets;
}

export type ChangeSets = "auto" | "file" | "folder" | { pattern: string };

export const defaultConfig: Readonly<Config> = Object.freeze({
  rules: {},
  searchPath: ["public"],
  pgVersion: 17,
  changeSets: "auto",
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
    } else if (k === "changeSets") {
      out.changeSets = checkChangeSets(v, `${where}: "changeSets"`);
    } else {
      throw new ConfigError(
        `${where}: unknown option "${k}" (known: rules, searchPath, pgVersion, changeSets)`,
      );
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

/** Validates a changeSets setting (config file or --change-sets). */
export function checkChangeSets(v: unknown, where: string): ChangeSets {
  if (v === "auto" || v === "file" || v === "folder") return v;
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const pattern = (v as { pattern?: unknown }).pattern;
    const extra = Object.keys(v).filter((k) => k !== "pattern");
    if (typeof pattern === "string" && pattern !== "" && extra.length === 0) {
      try {
        new RegExp(pattern);
      } catch (err) {
        throw new ConfigError(
          `${where}: invalid pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      return { pattern };
    }
  }
  throw new ConfigError(
    `${where} must be "auto", "file", "folder" or { "pattern": "<regex>" }, got ${JSON.stringify(v)}`,
  );
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
    // A UTF-8 byte order mark (PowerShell 5's Set-Content -Encoding UTF8, Notepad) is not content.
    text = readFileSync(path, "utf8").replace(/^\uFEFF/, "");
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
 * 31") in some Node versions and messages, a line and column in others, and no position at all
 * for "Unexpected token"; the offset is then found by scanning the text (jsonErrorOffset). Each
 * becomes the file's line and 1-based column, so an editor can jump to it.
 */
function jsonProblem(path: string, text: string, message: string): string {
  const problem = message
    .replace(/\s*\(line \d+ column \d+\)/, "")
    .replace(/ in JSON at position \d+/, "")
    .replace(/ at position \d+/, "")
    // V8 quotes the text around an unexpected token, newlines and all: the position says where.
    .replace(/, (?:\.\.\.)?"[\s\S]*" is not valid JSON$/, "");
  if (text.trim() === "") return `${path}: invalid JSON: the file is empty`;
  const at = /at position (\d+)/.exec(message);
  const offset = Math.min(at ? Number(at[1]) : jsonErrorOffset(text), text.length);
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = [...before.slice(before.lastIndexOf("\n") + 1)].length + 1;
  return `${path}:${line}:${column}: invalid JSON: ${problem}`;
}

/** The UTF-16 offset where `text` stops being JSON (its length when it ends too early). */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) throw i;
    i++;
  };
  const scalar = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  const string = () => {
    expect('"');
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c < " ") throw i;
      if (c === "\\") {
        i++;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) throw i;
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) throw i;
      }
    }
    throw i;
  };
  const value = (): void => {
    ws();
    const open = text[i];
    if (open === "{" || open === "[") {
      const close = open === "{" ? "}" : "]";
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (open === "{") {
          ws();
          string();
          expect(":");
        }
        value();
        ws();
        if (text[i] !== ",") break;
        i++;
      }
      expect(close);
      return;
    }
    if (open === '"') {
      string();
      return;
    }
    scalar.lastIndex = i;
    if (!scalar.exec(text)) {
      // Inside a misspelt true/false/null, where the spelling goes wrong (as V8 names the token).
      const word = ["true", "false", "null"].find((w) => w[0] === open);
      const start = i;
      if (word) while (text[i] === word[i - start]) i++;
      throw i;
    }
    i = scalar.lastIndex;
  };
  try {
    value();
    ws();
    return i < text.length ? i : text.length;
  } catch (at) {
    if (typeof at === "number") return at;
    throw at;
  }
}

/** Layers: defaults < config file < flags. */
export function mergeConfig(...layers: Partial<Config>[]): Config {
  const out: Config = {
    rules: {},
    searchPath: [...defaultConfig.searchPath],
    pgVersion: defaultConfig.pgVersion,
    changeSets: defaultConfig.changeSets,
  };
  for (const l of layers) {
    if (l.rules) out.rules = { ...out.rules, ...l.rules };
    if (l.searchPath) out.searchPath = [...l.searchPath];
    if (l.pgVersion !== undefined) out.pgVersion = l.pgVersion;
    if (l.changeSets !== undefined) out.changeSets = l.changeSets;
  }
  return out;
}
