/**
 * The ops commands end to end: the built CLI against real Postgres.
 */
import { migrationFiles } from "@cutover/outbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmptyDatabase, type TestDatabase, useTestDatabase } from "../../../test/harness/db.js";
import { createEffectsTable, effectCount, newGeneration, publish } from "./support/outbox.js";
import { ensureBuilt, fixture, runCli, spawnCli, waitUntil } from "./support/process.js";

// Every migration in the package, so adding one never breaks these assertions.
const migrationCount = migrationFiles().length;

const db = useTestDatabase();
let empty: TestDatabase;

beforeAll(async () => {
  ensureBuilt();
  await createEffectsTable(db.current.pool);
  empty = await createEmptyDatabase();
});

afterAll(async () => {
  await empty?.drop();
});

const quick = {
  OUTBOX_POLL_INTERVAL_MS: "200",
  OUTBOX_HEARTBEAT_INTERVAL_MS: "200",
  OUTBOX_STALE_AFTER_MS: "1000",
  PORT: "0",
  OUTBOX_HTTP_HOST: "127.0.0.1",
};

describe("outbox-worker ops commands", () => {
  it("prints help for every command and exits 0", async () => {
    const runs = [
      ["--help"],
      ["help"],
      ["run", "--help"],
      ["migrate", "--help"],
      ["generation", "--help"],
      ["generation", "allocate", "--help"],
      ["status", "-h"],
      ["dead", "--help"],
      ["dead", "list", "--help"],
      ["dead", "retry", "--help"],
      ["drain", "--help"],
    ].map(async (args) => {
      const r = await runCli(args, {});
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: "" });
      expect(r.stdout).toMatch(/Usage: outbox-worker/);
    });
    await Promise.all(runs);
  });

  it("exits 2 with one line naming a wrong or missing variable, before touching the database", async () => {
    const cases: Array<[Record<string, string>, string[], RegExp]> = [
      [{}, ["status"], /^outbox-worker: config error: DATABASE_URL is not set/],
      [
        { DATABASE_URL: db.current.url, OUTBOX_CONCURRENCY: "0" },
        ["status"],
        /OUTBOX_CONCURRENCY must be an integer from 1 to 256; got "0"/,
      ],
      [
        { DATABASE_URL: db.current.url, CUTOVER_GENERATION: "1", OUTBOX_HANDLERS: "x.js", PORT: "http" },
        ["run"],
        /PORT must be an integer/,
      ],
      [{ DATABASE_URL: db.current.url, OUTBOX_HANDLERS: "x.js" }, ["run"], /CUTOVER_GENERATION is not set/],
      [{ DATABASE_URL: db.current.url, CUTOVER_GENERATION: "1" }, ["run"], /OUTBOX_HANDLERS is not set/],
      [
        { DATABASE_URL: db.current.url, CUTOVER_GENERATION: "-3", OUTBOX_HANDLERS: "x.js" },
        ["run"],
        /CUTOVER_GENERATION must be a positive integer/,
      ],
      [
        { DATABASE_URL: db.current.url, OUTBOX_LISTEN: "maybe" },
        ["status"],
        /OUTBOX_LISTEN must be true or false/,
      ],
      [
        { DATABASE_URL: db.current.url, CUTOVER_SCHEMA: "Bad-Name" },
        ["status"],
        /CUTOVER_SCHEMA must be a lower-case SQL identifier/,
      ],
      [
        { DATABASE_URL: db.current.url, OUTBOX_STALE_AFTER_MS: "100", OUTBOX_HEARTBEAT_INTERVAL_MS: "500" },
        ["status"],
        /OUTBOX_STALE_AFTER_MS \(100\) must exceed OUTBOX_HEARTBEAT_INTERVAL_MS/,
      ],
      [{ DATABASE_URL: db.current.url }, ["status", "--nope"], /Unknown option '--nope'/],
      [{ DATABASE_URL: db.current.url }, ["frobnicate"], /unknown command "frobnicate"/],
      [{ DATABASE_URL: db.current.url }, ["generation", "allocate"], /needs --version/],
      [{ DATABASE_URL: db.current.url }, ["dead", "retry"], /needs event ids or --all/],
    ];
    await Promise.all(
      cases.map(async ([env, args, message]) => {
        const r = await runCli(args, env);
        expect({ args, env, code: r.code, stdout: r.stdout }).toEqual({ args, env, code: 2, stdout: "" });
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
      }),
    );
  });

  it("a handler module that does not export handlers is a config error naming OUTBOX_HANDLERS", async () => {
    const gen = await newGeneration(db.current.pool, "v-bad-module");
    const r = await runCli(["run"], {
      DATABASE_URL: db.current.url,
      CUTOVER_GENERATION: String(gen),
      OUTBOX_HANDLERS: fixture("no-handlers.mjs"),
      ...quick,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^outbox-worker: config error: OUTBOX_HANDLERS module .* must export `handlers`/,
    );
    // The same for a module that is not there and for OUTBOX_RELAYS that does not parse, as drain does.
    for (const [env, args, message] of [
      [
        { OUTBOX_HANDLERS: fixture("missing.mjs") },
        ["run"],
        /config error: OUTBOX_HANDLERS points to .*missing\.mjs, which does not exist/,
      ],
      [{ OUTBOX_HANDLERS: fixture("missing.mjs") }, ["drain"], /config error: OUTBOX_HANDLERS points to/],
      [{ OUTBOX_RELAYS: "[{" }, ["run"], /config error: OUTBOX_RELAYS: is not valid JSON/],
    ] as const) {
      const bad = await runCli([...args], {
        DATABASE_URL: db.current.url,
        CUTOVER_GENERATION: String(gen),
        ...env,
        ...quick,
      });
      expect({ args, code: bad.code }).toEqual({ args, code: 2 });
      expect(bad.stderr).toMatch(message);
    }
  });

  it("a missing handler module or bad OUTBOX_RELAYS fails at once, without waiting for a database that does not answer", async () => {
    // (A module's exports are checked once it is imported, after the wait: see the test below.)
    // Nothing listens on port 1: the worker would retry for OUTBOX_STARTUP_TIMEOUT_MS (60 s here).
    const down = {
      DATABASE_URL: "postgres://postgres:hunter2@127.0.0.1:1/postgres",
      CUTOVER_GENERATION: "1",
      OUTBOX_STARTUP_TIMEOUT_MS: "60000",
    };
    for (const [env, args, message] of [
      [{ OUTBOX_HANDLERS: fixture("missing.mjs") }, ["run"], /config error: OUTBOX_HANDLERS points to/],
      [{ OUTBOX_HANDLERS: fixture("missing.mjs") }, ["drain"], /config error: OUTBOX_HANDLERS points to/],
      [{ OUTBOX_RELAYS: "[{" }, ["run"], /config error: OUTBOX_RELAYS: is not valid JSON/],
      [{ OUTBOX_RELAYS: "[]" }, ["drain"], /the worker has nothing to run/],
    ] as const) {
      const started = Date.now();
      const bad = await runCli([...args], { ...down, ...env, ...quick });
      expect({ args, code: bad.code }).toEqual({ args, code: 2 });
      expect(bad.stderr).toMatch(message);
      expect(bad.stderr).not.toContain("hunter2");
      // Well inside the 60 s the database wait would take (a process start is ~0.3 s).
      expect(Date.now() - started).toBeLessThan(20_000);
    }
  });

  it("refuses to run on a schema that is behind, migrates with `migrate`, allocates with `generation allocate`", async () => {
    const env = { DATABASE_URL: empty.url };
    const refused = await runCli(["run"], {
      ...env,
      CUTOVER_GENERATION: "1",
      OUTBOX_HANDLERS: fixture("handlers.mjs"),
      ...quick,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^outbox-worker: schema "cutover" is behind: ${migrationCount} migration\\(s\\) not applied .* run \`outbox-worker migrate\` first, or start with --migrate`,
        "m",
      ),
    );
    const status = await runCli(["status"], env);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/SCHEMA_BEHIND/);

    const migrated = await runCli(["migrate"], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(
      new RegExp(`^applied ${migrationCount} migration\\(s\\) to schema "cutover"`),
    );
    const again = await runCli(["migrate"], env);
    expect(again.stdout).toBe('schema "cutover" is up to date\n');

    expect(await runCli(["generation", "allocate", "--version", "abc123"], env)).toEqual({
      code: 0,
      stdout: "1\n",
      stderr: "",
    });
    expect((await runCli(["generation", "allocate", "--version", "def456"], env)).stdout).toBe("2\n");
  });

  it("`run --migrate` migrates a fresh schema first, then runs", async () => {
    const env = { DATABASE_URL: empty.url, CUTOVER_SCHEMA: "cutover_fresh" };
    const allocateFirst = await runCli(["generation", "allocate", "--version", "v1"], env);
    expect(allocateFirst.code).toBe(1); // no schema yet
    const worker = spawnCli(["run", "--migrate", "--generation", "1"], {
      ...env,
      OUTBOX_HANDLERS: fixture("handlers.mjs"),
      ...quick,
    });
    const failed = await worker.exited;
    // Generation 1 was never allocated in the new schema: migrated, then refused with a clear error.
    expect(failed.code).toBe(1);
    expect(worker.logs().find((l) => l.msg === "migrations applied")).toMatchObject({
      schema: "cutover_fresh",
    });
    expect(worker.stderr()).toMatch(/generation 1 was never allocated/);
    expect((await runCli(["generation", "allocate", "--version", "v1"], env)).stdout).toBe("1\n");
  });

  it("`run --migrate` migrates before it imports a handler module that reads the database at import", async () => {
    // The module cannot load before the schema exists (nor while the database is down), so
    // only its path is checked before the database wait; it is imported after the migrations.
    const env = { DATABASE_URL: empty.url, CUTOVER_SCHEMA: "cutover_import" };
    const first = spawnCli(["run", "--migrate", "--generation", "1"], {
      ...env,
      OUTBOX_HANDLERS: fixture("db-at-import.mjs"),
      ...quick,
    });
    const failed = await first.exited;
    expect(first.stderr()).not.toMatch(/config error/);
    expect(first.logs().find((l) => l.msg === "migrations applied")).toMatchObject({
      schema: "cutover_import",
    });
    // Generation 1 was never allocated in the new schema: refused after the migrations.
    expect(failed.code).toBe(1);
    expect(first.stderr()).toMatch(/generation 1 was never allocated/);
    expect((await runCli(["generation", "allocate", "--version", "v1"], env)).stdout).toBe("1\n");
    const worker = spawnCli(["run", "--generation", "1"], {
      ...env,
      OUTBOX_HANDLERS: fixture("db-at-import.mjs"),
      ...quick,
    });
    await worker.waitForLog((l) => l.msg === "worker running", "worker running");
    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).toBe(0);
  });

  it("`status --json` reports a generation orphaned after its only worker is SIGKILLed", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "v-orphan");
    const env = {
      DATABASE_URL: db.current.url,
      OUTBOX_STALE_AFTER_MS: "1000",
      OUTBOX_HEARTBEAT_INTERVAL_MS: "200",
    };
    const worker = spawnCli(["run"], {
      ...env,
      ...quick,
      CUTOVER_GENERATION: String(gen),
      OUTBOX_HANDLERS: fixture("handlers.mjs"),
      FIXTURE_SLOW_MS: "60000",
    });
    await worker.waitForLog((l) => l.msg === "worker running", "worker running");
    // The worker holds a slow event: open work, but served by a live worker, so not orphaned.
    await publish(pool, gen, "order.slow", 1);
    const status = async () => {
      const r = await runCli(["status", "--json"], env);
      const body = JSON.parse(r.stdout) as { healthy: boolean; orphaned: number[]; problems: string[] };
      // Exit 5 exactly when the report names a problem; an orphaned generation always is one
      // (a stale heartbeat in a generation with open rows is another, seen on a loaded machine).
      expect({ code: r.code, healthy: body.healthy }).toEqual(
        body.problems.length > 0 ? { code: 5, healthy: false } : { code: 0, healthy: true },
      );
      if (body.orphaned.length > 0) expect(body.problems.join("; ")).toMatch(/orphaned generation/);
      return body as unknown as {
        generations: Array<{
          generation: number;
          orphaned: boolean;
          liveWorkers: number;
          pending: number;
          inFlight: number;
        }>;
        workers: Array<{ generation: number; stale: boolean; status: string }>;
        orphaned: number[];
      };
    };
    await waitUntil(
      "in flight",
      async () => (await status()).generations.find((g) => g.generation === gen)?.inFlight === 1,
    );
    const alive = await status();
    expect(alive.generations.find((g) => g.generation === gen)).toMatchObject({
      liveWorkers: 1,
      orphaned: false,
    });
    expect(alive.orphaned).not.toContain(gen);

    worker.child.kill("SIGKILL");
    expect((await worker.exited).signal).toBe("SIGKILL");
    await publish(pool, gen, "order.placed", 3);
    const dead = await waitUntil("orphaned", async () => {
      const s = await status();
      return s.orphaned.includes(gen) ? s : undefined;
    });
    expect(dead.generations.find((g) => g.generation === gen)).toMatchObject({
      liveWorkers: 0,
      orphaned: true,
      pending: 3,
      inFlight: 1,
    });
    expect(dead.workers.filter((w) => w.generation === gen)).toEqual([
      expect.objectContaining({ status: "running", stale: true }),
    ]);
    const table = await runCli(["status"], env);
    expect(table.code).toBe(5);
    expect(table.stdout).toMatch(new RegExp(`^${gen}\\s+v-orphan\\s+3\\s+1\\s.*ORPHANED`, "m"));
    expect(table.stdout).toMatch(/STALE/);

    // `drain` with that generation's code empties it (the reaper re-pends the killed worker's row) and exits 0.
    const drain = spawnCli(["drain", "--generation", String(gen)], {
      ...env,
      OUTBOX_HANDLERS: fixture("handlers.mjs"),
      FIXTURE_SLOW_MS: "10",
      OUTBOX_REAPER_INTERVAL_MS: "200",
      OUTBOX_POLL_INTERVAL_MS: "100",
    });
    const { code } = await drain.exited;
    expect({ code, stderr: drain.stderr() }).toMatchObject({ code: 0 });
    expect(drain.stdout()).toMatch(new RegExp(`^generation ${gen} drained: 4 handled, 0 dead$`, "m"));
    expect(drain.stderr()).toMatch(
      new RegExp(`^drain: generation ${gen}: \\d+ pending, \\d+ in flight`, "m"),
    );
    expect(drain.stderr()).toMatch(/handled 4, dead 0, remaining 0/);
    expect(await effectCount(pool, gen)).toBe(4);
    const after = await status();
    expect(after.orphaned).not.toContain(gen);
    expect(after.generations.find((g) => g.generation === gen)).toMatchObject({ pending: 0, inFlight: 0 });
  });

  it("`drain` of an empty generation exits 0 at once and leaves its worker row exited", async () => {
    const gen = await newGeneration(db.current.pool, "v-empty");
    const r = await runCli(["drain"], {
      DATABASE_URL: db.current.url,
      CUTOVER_GENERATION: String(gen),
      OUTBOX_HANDLERS: fixture("handlers.mjs"),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(`generation ${gen} drained: 0 handled, 0 dead`);
    const { rows } = await db.current.pool.query("SELECT status FROM cutover.workers WHERE generation = $1", [
      gen,
    ]);
    expect(rows).toEqual([{ status: "exited" }]);
  });
});
