import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** Static checks of the image: the runtime stage runs as a non-root user on a pinned base. */
const dockerfile = readFileSync(fileURLToPath(new URL("../../Dockerfile", import.meta.url)), "utf8");
const lines = dockerfile
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const stages: string[][] = [];
for (const l of lines) {
  if (/^FROM\s/i.test(l)) stages.push([l]);
  else stages.at(-1)?.push(l);
}
const runtime = stages.at(-1) ?? [];

describe("container image (Dockerfile)", () => {
  it("the final stage switches to a non-root user before its entrypoint", () => {
    const users = runtime.filter((l) => /^USER\s/i.test(l)).map((l) => l.split(/\s+/)[1]!);
    expect(users.length, "no USER in the runtime stage: it would run as root").toBeGreaterThan(0);
    const last = users.at(-1)!;
    expect(["root", "0", "0:0", "root:root"]).not.toContain(last.toLowerCase());
    const userAt = runtime.findLastIndex((l) => /^USER\s/i.test(l));
    const entryAt = runtime.findIndex((l) => /^(ENTRYPOINT|CMD)\s/i.test(l));
    expect(entryAt).toBeGreaterThan(userAt);
  });

  it("every base image is pinned to an exact version or digest (no latest, no floating major)", () => {
    for (const stage of stages) {
      const image = stage[0]!.split(/\s+/)[1]!;
      if (stages.some((s) => new RegExp(`\\sAS\\s+${image}$`, "i").test(s[0]!))) continue;
      expect(image, image).toMatch(/(@sha256:[0-9a-f]{64}$)|(:\d+\.\d+\.\d+[\w.-]*$)/);
    }
  });

  it("secrets are not baked in: no DATABASE_URL or password set in the image", () => {
    expect(dockerfile).not.toMatch(/^\s*(ENV|ARG)\s+[^\n]*(DATABASE_URL|PASSWORD|SECRET)/im);
  });
});
