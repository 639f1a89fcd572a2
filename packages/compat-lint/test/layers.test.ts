import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { packageDir } from "./helpers.js";

/**
 * The layers of src/ (docs/compat-lint/architecture.md) import one way:
 * parse/ -> schema/ -> rules/ -> engine/ -> format/, cli/. This reads every
 * source file's relative imports and fails on one that points the other way,
 * or on a rule that reaches into the replay instead of schema/queries.ts.
 */
const srcDir = join(packageDir, "src");

/** Which layers a file of each layer may import from (its own included). */
const allowed: Record<string, readonly string[]> = {
  parse: ["parse"],
  schema: ["parse", "schema"],
  rules: ["parse", "schema", "rules"],
  engine: ["parse", "schema", "rules", "engine"],
  format: ["parse", "rules", "engine", "format"],
  cli: ["engine", "format", "cli", "(top)"],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Every relative import of every file under src/, as paths relative to src/ ("rules/rule.ts"). */
function imports(): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (const file of sourceFiles(srcDir)) {
    const from = relative(srcDir, file).split(sep).join("/");
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)"(\.{1,2}\/[^"]+)\.js"/g)) {
      out.push({ from, to: `${posix.join(posix.dirname(from), m[1]!)}.ts` });
    }
  }
  return out;
}

const layerOf = (path: string) => (path.includes("/") ? path.slice(0, path.indexOf("/")) : "(top)");

describe("compat-lint's layers", () => {
  const all = imports();

  it("finds the imports it checks", () => {
    // Guards the scan itself: a regex that matched nothing would pass every check below.
    expect(all).toContainEqual({ from: "engine/lint-sources.ts", to: "schema/replay.ts" });
    expect(all).toContainEqual({ from: "rules/drop-view.ts", to: "schema/queries.ts" });
    expect(new Set(all.map((i) => layerOf(i.from)))).toEqual(new Set([...Object.keys(allowed), "(top)"]));
  });

  it("imports only from its own layer or the layers before it", () => {
    const wrong = all
      .filter((i) => layerOf(i.from) !== "(top)" && !allowed[layerOf(i.from)]!.includes(layerOf(i.to)))
      .map((i) => `${i.from} imports ${i.to}`);
    expect(wrong).toEqual([]);
  });

  it("rules ask the schema through schema/queries.ts, never the replay", () => {
    const replay = all
      .filter((i) => i.from.startsWith("rules/") && /^schema\/replay(\.ts|\/)/.test(i.to))
      .map((i) => `${i.from} imports ${i.to}`);
    expect(replay).toEqual([]);
  });

  it("every import resolves to a file that exists", () => {
    const files = new Set(sourceFiles(srcDir).map((f) => relative(srcDir, f).split(sep).join("/")));
    expect(all.filter((i) => !files.has(i.to)).map((i) => `${i.from} imports ${i.to}`)).toEqual([]);
  });
});
