import { relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { displayPath } from "../src/engine/files.js";

/** What displayPath promises: relative to cwd when inside it, else the path as given; forward slashes. */
function reference(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return (rel.startsWith("..") || rel === "" ? abs : rel).split(sep).join("/");
}

describe("displayPath", () => {
  it("agrees with path.relative's answer for paths inside, beside and outside cwd, normalized or not", () => {
    const cwds = [
      "/work/main",
      "/work/main/",
      "/",
      "/work/./main",
      "/work//main",
      "/home/u/.config/app",
      "/w",
    ];
    const paths = [
      "/work/main/migrations/1_a.sql",
      "/work/main",
      "/work/mainly/1.sql",
      "/work/other/1.sql",
      "/elsewhere/migrations/1.sql",
      "/work/main/../main/x.sql",
      "/work//main/x.sql",
      "/work/./main/x.sql",
      "/home/u/.config/app/m/1.sql",
      "/home/u/.config/other/1.sql",
      "/w/x.sql",
      "/wx/1.sql",
    ];
    for (const cwd of cwds) {
      for (const abs of paths) expect(displayPath(abs, cwd), `${abs} from ${cwd}`).toBe(reference(abs, cwd));
    }
  });
});
