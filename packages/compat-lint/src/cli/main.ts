import { parseArgs } from "node:util";
import {
  type Config,
  ConfigError,
  checkChangeSets,
  checkRule,
  checkVersion,
  type RuleSetting,
} from "../engine/config.js";
import { UsageError } from "../engine/files.js";
import { lint } from "../engine/lint-files.js";
import { describeParser } from "../engine/lint-sources.js";
import { formatGithub } from "../format/github.js";
import { formatJson } from "../format/json.js";
import { repoPathMapper } from "../format/repo-path.js";
import { formatSarif } from "../format/sarif.js";
import { formatText } from "../format/text.js";
import { version } from "../version.js";

const usage = `Usage: compat-lint [options] [paths...]

Checks that SQL migrations keep the previous deployment generation working
(expand/contract). Paths are folders (their .sql files), files or globs;
default: migrations/. Files run in node-pg-migrate order; files named alike in
several folders (Prisma's */migration.sql) in their folders' order.

Options:
  -f, --format <fmt>       text (default), json, github, sarif
      --since <git-ref>    change set = files added since <git-ref>; older files are replayed for context
  -c, --config <file>      config file (default: compat-lint.json or .compat-lint.json if present)
      --rule <id=level>    override a rule: error, warning or off (repeatable)
      --pg-version <n>     target Postgres major version (default 17)
      --search-path <a,b>  schema search path (default public)
      --change-sets <how>  without --since, which files form one change set: auto (default:
                           popx split versions and folder-per-migration layouts), file, folder,
                           or a regex whose first group (or match) names the change set
      --debug              also print which parser is in use (to stderr)
  -h, --help               show this help
  -v, --version            print the version

The parser is libpg_query's native build when its optional dependency is
installed, else its WASM build (same grammar, same results); set
COMPAT_LINT_PARSER=native, wasm or auto (default) to choose.

A file may opt in to breaking the previous generation with
  -- compat: breaking (reason: <why it is safe>)
and silence one rule for the next statement with
  -- compat-lint ignore <rule-id>

Exit status: 0 clean (warnings allowed), 1 violations, 2 usage or parse error.
`;

const formats = new Set(["text", "json", "github", "sarif"]);

/** Runs the CLI with the given arguments; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`compat-lint: ${(err as Error).message}\n\nRun compat-lint --help for usage.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  try {
    if (values.debug) process.stderr.write(`compat-lint: parser: ${await describeParser()}\n`);
    if (values.version) {
      process.stdout.write(`${version}\n`);
      return 0;
    }
    const format = values.format ?? "text";
    if (!formats.has(format))
      throw new ConfigError(`--format must be text, json, github or sarif, got "${format}"`);
    const flags: Partial<Config> = {};
    if (values.rule?.length) {
      flags.rules = {};
      for (const r of values.rule) {
        const m = /^([^=]+)=(.*)$/.exec(r);
        if (!m) throw new ConfigError(`--rule expects <id>=<error|warning|off>, got "${r}"`);
        checkRule(m[1]!, m[2], "--rule");
        flags.rules[m[1]!] = m[2] as RuleSetting;
      }
    }
    if (values["pg-version"] !== undefined)
      flags.pgVersion = checkVersion(values["pg-version"], "--pg-version");
    if (values["search-path"] !== undefined) {
      const path = values["search-path"]
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      if (path.length === 0) throw new ConfigError("--search-path needs at least one schema name");
      flags.searchPath = path;
    }
    const cs = values["change-sets"];
    if (cs !== undefined)
      flags.changeSets = checkChangeSets(
        cs === "auto" || cs === "file" || cs === "folder" ? cs : { pattern: cs },
        "--change-sets",
      );
    const result = await lint({
      paths: positionals,
      since: values.since,
      configFile: values.config,
      config: flags,
    });
    const rendered =
      format === "json"
        ? formatJson(result, version)
        : format === "sarif"
          ? formatSarif(result, version, repoPathMapper(process.cwd()))
          : format === "github"
            ? formatGithub(result, repoPathMapper(process.cwd()))
            : formatText(result);
    await write(rendered);
    return result.exitCode;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`compat-lint: ${err.message}\n`);
      return 2;
    }
    // Never a stack trace: an unexpected failure is reported in one line, exit 2.
    process.stderr.write(`compat-lint: internal error: ${(err as Error)?.message ?? String(err)}\n`);
    return 2;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: "string", short: "f" },
      since: { type: "string" },
      config: { type: "string", short: "c" },
      rule: { type: "string", multiple: true },
      "pg-version": { type: "string" },
      "search-path": { type: "string" },
      "change-sets": { type: "string" },
      debug: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
}

function write(s: string): Promise<void> {
  return new Promise((resolve) => {
    process.stdout.write(s, () => resolve());
  });
}
