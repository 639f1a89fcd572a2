import { execFile, execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { newestMtime } from "./support/build.js";
import { newGeneration } from "./support/consumer.js";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..");
const db = useTestDatabase();

// The child imports the built package: build it when missing or older than src.
beforeAll(() => {
  const built = join(pkg, "dist", "telemetry.js");
  if (!existsSync(built) || statSync(built).mtimeMs < newestMtime(join(pkg, "src"))) {
    execFileSync("npx", ["tsc", "-b", pkg], { cwd: join(pkg, "..", ".."), stdio: "inherit" });
  }
});

describe("without @opentelemetry/api", () => {
  it("publishes and handles events; ctx.logger still joins on the stored traceparent and tenant", async () => {
    const gen = await newGeneration(db.current.pool);
    const traceparent = `00-${"4bf92f3577b34da6a3ce929d0e0e4736"}-${"00f067aa0ba902b7"}-01`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", join(here, "fixtures", "block-otel.mjs"), join(here, "fixtures", "no-otel-child.mjs")],
      {
        env: {
          ...process.env,
          DATABASE_URL: db.current.url,
          GENERATION: String(gen),
          TRACEPARENT: traceparent,
        },
      },
    );
    const out = JSON.parse(stdout.trim().split("\n").pop()!);
    // The library did try to load the API, was refused, and carried on.
    expect(out.refused).toBeGreaterThanOrEqual(1);
    expect(out.row).toEqual({ status: "completed", headers: { traceparent } });
    expect(out.line).toMatchObject({
      msg: "charging",
      tenant_seen: "acme",
      tenant: "acme",
      handler: "billing.charge",
      topic: "order.placed",
      generation: gen,
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      span_id: "00f067aa0ba902b7",
    });
  });
});
