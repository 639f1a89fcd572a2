import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { allocateGeneration } from "@cutover/outbox";
import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../harness/db.js";
import { freePort } from "../harness/postgres-server.js";
import { snapshot } from "./snapshot.js";

/**
 * A wrong DATABASE_URL for `outbox-worker run`: the process must say what is
 * wrong (naming the variable or the unreachable address), exit non-zero
 * instead of hanging or crashing with a stack trace, and harm nothing stored.
 * An unreachable database is retried with backoff until
 * OUTBOX_STARTUP_TIMEOUT_MS (here 0: one attempt), then exits 4 naming the
 * cause; a database that refuses us for good (missing database, wrong
 * password) exits 3 at once; configuration errors exit 2.
 * apps/worker/test/worker-startup.test.ts covers the retry phase itself.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(root, "apps/worker/dist/cli.js");
const handlers = fileURLToPath(new URL("../security/fixtures/handlers.mjs", import.meta.url));
const db = useTestDatabase();
let generation: number;

beforeAll(async () => {
  execFileSync("npx", ["tsc", "-b", "apps/worker"], { cwd: root, stdio: "ignore" });
  generation = (await allocateGeneration(db.current.pool, { version: "config" })).generation;
});

function run(databaseUrl: string | undefined) {
  const env: Record<string, string | undefined> = {
    ...process.env,
    OUTBOX_STARTUP_TIMEOUT_MS: "0",
    CUTOVER_GENERATION: String(generation),
    OUTBOX_HANDLERS: handlers,
    PORT: "0",
    DATABASE_URL: databaseUrl,
  };
  if (databaseUrl === undefined) delete env.DATABASE_URL;
  const r = spawnSync(process.execPath, [cli, "run"], { env, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
}

describe("outbox-worker with a wrong DATABASE_URL", () => {
  it("each mistake gets a clear error naming it, a non-zero exit, no stack trace, and stored data untouched", async () => {
    const before = await snapshot(db.current.pool);
    const port = await freePort();
    const wrongDb = new URL(db.current.url);
    wrongDb.pathname = "/cutover_no_such_db";
    const cases: Array<[string | undefined, RegExp, number]> = [
      [undefined, /DATABASE_URL is not set/, 2],
      ["not a url", /DATABASE_URL is not a valid URL/, 2],
      ["mysql://u:p@localhost/db", /DATABASE_URL must use the postgres:\/\/ or postgresql:\/\/ scheme/, 2],
      [
        `postgres://u:p@127.0.0.1:${port}/db`,
        new RegExp(`DATABASE_UNAVAILABLE: .*OUTBOX_STARTUP_TIMEOUT_MS.*ECONNREFUSED 127\\.0\\.0\\.1:${port}`),
        4,
      ],
      [wrongDb.toString(), /DATABASE_REJECTED: .*database "cutover_no_such_db" does not exist/, 3],
    ];
    for (const [url, message, exitCode] of cases) {
      const r = run(url);
      expect(r.signal, r.out).toBeNull();
      expect(r.status, r.out).toBe(exitCode);
      expect(r.out, String(url)).toMatch(message);
      expect(r.out).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
    }
    expect(await snapshot(db.current.pool)).toEqual(before);
  });
});
