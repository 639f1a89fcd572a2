import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/**
 * GitHub resolves an annotation's `file=` and a SARIF result's relative `uri` against the
 * repository root, not against the directory compat-lint ran in. Diagnostics carry paths relative
 * to the working directory, so a run from a subdirectory (a monorepo package, a workflow step with
 * `working-directory:`) would point at files that do not exist. This maps a diagnostic's path to
 * one relative to the root of the git work tree holding `cwd` (the nearest directory with a
 * `.git` entry, as git finds it); outside a work tree, or for a file outside it, the path is
 * returned as an absolute path (SARIF makes it a file: URI).
 */
export function repoPathMapper(cwd: string): (file: string) => string {
  const root = workTreeRoot(cwd);
  return (file) => {
    const abs = resolve(cwd, file);
    if (root === undefined) return isAbsolute(file) ? file.split(sep).join("/") : file;
    const rel = relative(root, abs);
    if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return abs.split(sep).join("/");
    return rel.split(sep).join("/");
  };
}

function workTreeRoot(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, ".git"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}
