import { readFileSync } from "node:fs";

/** The @cutover/worker package version (dist/ and src/ both sit next to package.json's folder). */
export const WORKER_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
})();
