import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Consumer, createConsumer } from "@cutover/outbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { newestMtime } from "./support/build.js";
import { completedCount } from "./support/completion.js";
import {
  connectionsOf,
  countWhere,
  createEffects,
  newGeneration,
  publisherFor,
  publishMany,
  recorder,
  waitFor,
  waitForCount,
} from "./support/consumer.js";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, "..");
const db = useTestDatabase();

// The child imports the built package: build it when missing or older than src.
beforeAll(() => {
  const built = join(pkg, "dist", "consumer", "consumer.js");
  if (!existsSync(built) || statSync(built).mtimeMs < newestMtime(join(pkg, "src"))) {
    execFileSync("npx", ["tsc", "-b", pkg], { cwd: join(pkg, "..", ".."), stdio: "inherit" });
  }
});

let child: ChildProcess | undefined;
let survivor: Consumer | undefined;
afterAll(async () => {
  child?.kill("SIGKILL");
  await survivor?.stop({ timeoutMs: 5000 });
});

describe("consumer crash", () => {
  it("a SIGKILLed consumer's rows are re-pended by its generation's reaper and finished once by another", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "crash");
    const other = await newGeneration(pool, "other");
    const total = 300;
    await publishMany(pool, await publisherFor(pool, gen), total, { prefix: "crash" });
    // A row of another generation, stuck in flight under the dead worker's name: not ours to reap.
    await publishMany(pool, await publisherFor(pool, other), 1, { prefix: "foreign" });
    await pool.query(
      "UPDATE cutover.outbox SET status = 'in_flight', claimed_by = 'crash-child', attempts = 1, lease_expires_at = now() - interval '1 hour' WHERE generation = $1",
      [other],
    );

    child = spawn(process.execPath, [join(here, "fixtures", "consumer-child.mjs")], {
      env: {
        ...process.env,
        DATABASE_URL: db.current.url,
        GENERATION: String(gen),
        WORKER_ID: "crash-child",
        HOLD_MS: "40",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let handling = 0;
    child.stdout!.on("data", (d: Buffer) => {
      handling += (d.toString().match(/handling/g) ?? []).length;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child!.once("exit", (_code, sig) => resolve(sig)),
    );
    // Kill it mid-batch: some chunks committed, others open with handlers running.
    await waitFor(() => handling >= 40, 10);
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    // Let the server notice the dead backends (and finish any COMMIT already sent) before counting.
    await waitFor(async () => (await connectionsOf(pool, "crash-child")) === 0);

    const heldByCorpse = await countWhere(
      pool,
      "SELECT * FROM cutover.outbox WHERE generation = $1 AND status = 'in_flight' AND claimed_by = 'crash-child'",
      [gen],
    );
    expect(heldByCorpse).toBeGreaterThan(0);
    const doneBefore = await completedCount(pool, gen);
    expect(doneBefore).toBeLessThan(total);

    // The child's lease is long (60 s): only its stale heartbeat can free its rows.
    survivor = createConsumer({
      databaseUrl: db.current.url,
      generation: gen,
      workerId: "crash-survivor",
      staleAfterMs: 1000,
      heartbeatIntervalMs: 200,
      reaperIntervalMs: 200,
      pollIntervalMs: 100,
      // What the child's handler writes, minus its hold.
      handlers: [recorder("crash.record")],
    });
    const reaped: string[] = [];
    survivor.on("reaped", (r) => reaped.push(...r.ids));
    const attemptOf = new Map<string, number>();
    survivor.on("handled", (h) => attemptOf.set(h.id, h.attempt));
    await survivor.start();
    await waitForCount(
      pool,
      0,
      "SELECT * FROM cutover.outbox WHERE generation = $1 AND status <> 'done'",
      [gen],
      100,
    );

    expect(reaped.length).toBe(heldByCorpse);
    expect(await completedCount(pool, gen)).toBe(total);
    expect(await countWhere(pool, "SELECT * FROM public.effects WHERE handler = 'crash.record'")).toBe(total);
    expect(
      await countWhere(pool, "SELECT DISTINCT event_id FROM public.effects WHERE handler = 'crash.record'"),
    ).toBe(total);
    expect(await countWhere(pool, "SELECT * FROM cutover.event_handled WHERE generation = $1", [gen])).toBe(
      total,
    );
    // Effects of the killed chunks were rolled back with them and redone by the survivor.
    expect(
      await countWhere(
        pool,
        "SELECT * FROM public.effects WHERE handler = 'crash.record' AND worker = 'crash-survivor'",
      ),
    ).toBe(total - doneBefore);
    // The reaped rows carry the crashed attempt: the survivor handled each at attempt 2.
    expect(reaped.map((id) => attemptOf.get(id))).toEqual(reaped.map(() => 2));
    // The other generation's stuck row was left alone.
    const { rows } = await pool.query("SELECT status, claimed_by FROM cutover.outbox WHERE generation = $1", [
      other,
    ]);
    expect(rows).toEqual([{ status: "in_flight", claimed_by: "crash-child" }]);
  });
});
