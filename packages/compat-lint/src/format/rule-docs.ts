import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The rule docs the package ships (docs/compat-lint/, copied from the repository's docs by the
 * build: scripts/bundle.mjs), read on demand: only SARIF output embeds them. The same relative
 * path names a rule's page in the repository and in the installed package.
 */
export function ruleDocPath(ruleId: string): string {
  return `docs/compat-lint/rules/${ruleId}.md`;
}

/** A rule's whole docs page (Markdown), or undefined when the package was built without its docs. */
export function ruleDoc(ruleId: string): string | undefined {
  for (const root of roots()) {
    const p = `${root}${ruleDocPath(ruleId)}`;
    if (existsSync(p)) {
      try {
        return readFileSync(p, "utf8");
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

let cached: string[] | undefined;
/**
 * Where docs/compat-lint may be: the package root (the bundled CLI runs from bin/, the library
 * from dist/format/), then the repository root of a source checkout.
 */
function roots(): string[] {
  if (cached) return cached;
  const here = import.meta.url;
  cached = ["../", "../../", "../../../", "../../../../"].map((up) => fileURLToPath(new URL(up, here)));
  return cached;
}
