import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The consumer's rooms import the way docs/library.md ("Inside the consumer:
 * the rooms") says they do. This reads every relative import under
 * src/consumer/ and fails on one the map does not allow, so the map and the
 * code cannot drift apart silently.
 */
const consumerDir = fileURLToPath(new URL("../src/consumer/", import.meta.url));

/** The leaves: they import no room, only each other and the package's shared modules. */
const LEAVES = new Set([
  "handlers.ts",
  "sql.ts",
  "options.ts",
  "bounds.ts",
  "listener.ts",
  "events.ts",
  "metrics.ts",
  "loop.ts",
  "prune.ts",
]);

/** The room a file belongs to: a folder's files are one room. */
const roomOf = (path: string) => (path.includes("/") ? `${path.slice(0, path.indexOf("/"))}/` : path);

/** Rooms (beyond the leaves and the package's shared modules) each room may import. */
const allowed: Record<string, readonly string[]> = {
  "consumer.ts": ["claim.ts", "work.ts", "chunk/", "outcome.ts", "services/", "report.ts"],
  "claim.ts": ["work.ts", "chunk/scope.ts"],
  "work.ts": ["chunk/", "report.ts"],
  "chunk/": ["chunk/", "outcome.ts"],
  "outcome.ts": [],
  "services/": ["services/", "services/reaper.ts -> outcome.ts"],
  "report.ts": ["chunk/outcomes.ts"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of every consumer file, as paths relative to src/consumer/ ("../x.ts" leaves the folder). */
function imports(): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (const file of sourceFiles(consumerDir)) {
    const from = relative(consumerDir, file).split(sep).join("/");
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)"(\.{1,2}\/[^"]+)\.js"/g)) {
      out.push({ from, to: `${posix.normalize(posix.join(posix.dirname(from), m[1]!))}.ts` });
    }
  }
  return out;
}

function permitted(from: string, to: string): boolean {
  if (to.startsWith("../")) return true; // the package's shared modules (errors, db, handler, ...)
  if (LEAVES.has(to)) return true;
  if (LEAVES.has(from)) return false;
  const room = roomOf(from);
  if (roomOf(to) === room && room.endsWith("/")) return true;
  const rules = allowed[room] ?? [];
  return rules.some((r) => r === to || r === roomOf(to) || r === `${from} -> ${to}`);
}

describe("the consumer's rooms", () => {
  const all = imports();

  it("finds the imports it checks", () => {
    // Guards the scan: a regex that matched nothing would pass every check below.
    expect(all).toContainEqual({ from: "consumer.ts", to: "claim.ts" });
    expect(all).toContainEqual({ from: "chunk/chunk.ts", to: "outcome.ts" });
    expect(all).toContainEqual({ from: "chunk/chunk.ts", to: "../handler.ts" });
  });

  it("each room imports only the leaves and the rooms the map lists for it", () => {
    const wrong = all.filter((i) => !permitted(i.from, i.to)).map((i) => `${i.from} imports ${i.to}`);
    expect(wrong).toEqual([]);
  });

  it("nothing imports the lifecycle", () => {
    expect(all.filter((i) => i.to === "consumer.ts").map((i) => i.from)).toEqual([]);
  });

  it("every file is a leaf or belongs to a mapped room", () => {
    const unmapped = sourceFiles(consumerDir)
      .map((f) => relative(consumerDir, f).split(sep).join("/"))
      .filter((f) => !LEAVES.has(f) && allowed[roomOf(f)] === undefined);
    expect(unmapped).toEqual([]);
  });
});
