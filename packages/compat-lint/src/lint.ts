import { readFileSync, realpathSync } from "node:fs";
import { type Config, loadConfigFile, mergeConfig } from "./config.js";
import type { LintResult } from "./diagnostic.js";
import { collectFiles, displayPath, filesAddedSince } from "./files.js";
import { lintSources, type SourceInput } from "./linter.js";
import { initParser } from "./parser.js";

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
  initParser().catch(() => {});
  const files = collectFiles(options.paths?.length ? options.paths : ["migrations"], cwd);
  const changeSet = options.since !== undefined ? canonical(filesAddedSince(options.since, cwd)) : undefined;
  const inputs: SourceInput[] = files.map((abs) => {
    let content: Buffer | string;
    try {
      // Read as text: one native call (open, read, decode, close) instead of readFileSync's
      // JS steps plus a separate decode. Valid UTF-8 decodes without U+FFFD and re-encodes to the
      // same bytes; a file with U+FFFD (possibly a replaced invalid byte) is read again as
      // bytes, so the linter can locate an invalid sequence exactly as before.
      content = readFileSync(abs, "utf8");
      if (content.includes("\uFFFD")) content = readFileSync(abs);
    } catch (err) {
      content = Buffer.alloc(0);
      void err;
    }
    return {
      path: displayPath(abs, cwd),
      content,
      inChangeSet: changeSet === undefined || changeSet.has(real(abs)),
    };
  });
  return lintSources(inputs, { config, changeSet: changeSet === undefined ? "file" : "inputs" });
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
