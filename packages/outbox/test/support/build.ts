import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** The newest modification time (ms) of any file below `dir`: a build older than it is stale. */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}
