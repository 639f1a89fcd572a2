import { realpathSync } from "node:fs";
import { type Config, loadConfigFile, mergeConfig } from "./config.js";
import type { LintResult } from "./diagnostic.js";
import { changeSetKeys, changesSince, collectFiles, displayPath, readFiles, UsageError } from "./files.js";
import { lintSources, loadParser, type SourceInput } from "./lint-sources.js";

export interface LintOptions {
  /** Folders, files or globs. Default: ["migrations"]. */
  paths?: string[];
  /** Default: process.cwd(). */
  cwd?: string;
  /** Git ref: the change set is every file added since it; older files are replayed for context only. */
  since?: string;
  /** Config file path; default: compat-lint.json or .compat-lint.json in cwd if present. */
  configFile?: string;
  /** Overrides the config file. */
  config?: Partial<Config>;
}

/**
 * Lints migrations on disk and returns the diagnostics as data; nothing is
 * printed. Throws UsageError / ConfigError for bad arguments (the CLI's exit
 * 2); problems inside files are diagnostics, never exceptions.
 */
export async function lint(options: LintOptions = {}): Promise<LintResult> {
  const cwd = options.cwd ?? process.cwd();
  const config = mergeConfig(loadConfigFile(cwd, options.configFile), options.config ?? {});
  // Start compiling the parser now; it finishes in the background while the files are read.
  loadParser().catch(() => {});
  const files = options.paths?.length ? collectFiles(options.paths, cwd) : defaultFiles(cwd);
  // With --since: the change set, and the files the ref already had that changed since (with
  // their content at the ref), keyed by canonical path.
  const reals = options.since !== undefined ? files.map(real) : undefined;
  const since = reals && changesSince(options.since!, cwd, new Set(reals));
  const changeSet = since && canonical(since.added);
  const contents = readFiles(files);
  const keys = changeSet === undefined ? changeSetKeys(files, config.changeSets) : undefined;
  const inputs: SourceInput[] = files.map((abs, i) => {
    const read = contents[i]!;
    const previous = since?.edited.get(reals![i]!);
    return {
      path: displayPath(abs, cwd),
      content: read.ok ? read.bytes : Buffer.alloc(0),
      readError: read.ok ? undefined : read.message,
      inChangeSet: changeSet === undefined || changeSet.has(reals![i]!),
      ...(keys?.[i] !== undefined ? { changeSetKey: keys[i] } : {}),
      ...(previous !== undefined ? { previous: { content: previous, ref: options.since! } } : {}),
    };
  });
  return lintSources(inputs, { config, changeSet: changeSet === undefined ? "file" : "inputs" });
}

/** No path given: the migrations folder, and an error that says it was the default. */
function defaultFiles(cwd: string): string[] {
  try {
    return collectFiles(["migrations"], cwd);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    throw new UsageError(
      `${err.message} (no paths given, so compat-lint looked for the default migrations/ in ${cwd}; pass the migrations folder as an argument)`,
      { cause: err },
    );
  }
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function canonical(paths: Set<string>): Set<string> {
  return new Set([...paths].map(real));
}
