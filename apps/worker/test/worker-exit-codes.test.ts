/**
 * The ops commands' exit codes, for scripts and cron checks: `status` exits 5
 * when what it reports is unhealthy, `dead list|retry` exit 6 when what they
 * were asked to act on does not exist. The built CLI against real Postgres;
 * each case sets the state up with plain SQL in this file's own database.
 */
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { newGeneration, publish } from "./support/outbox.js";
import { ensureBuilt, runCli } from "./support/process.js";

const db = useTestDatabase();
const env = () => ({ DATABASE_URL: db.current.url, OUTBOX_STALE_AFTER_MS: "30000" });

beforeAll(() => {
  ensureBuilt();
});

beforeEach(async () => {
  await db.current.pool.query("TRUNCATE cutover.outbox, cutover.workers, cutover.deployments");
});

/** A workers row as a heartbeat would leave it, last seen `agoMs` ago. */
async function worker(id: string, generation: number, agoMs: number, status = "running"): Promise<void> {
  await db.current.pool.query(
    `INSERT INTO cutover.workers (id, generation, status, last_seen)
     VALUES ($1, $2, $3, now() - $4 * interval '1 millisecond')`,
    [id, generation, status, agoMs],
  );
}

async function kill(ids: string[], topic = "order.placed"): Promise<void> {
  await db.current.pool.query(
    "UPDATE cutover.outbox SET status = 'dead', attempts = 5, last_error = $2 WHERE id = ANY($1::bigint[])",
    [ids, `${topic} failed`],
  );
}

async function statusJson(args: string[] = []) {
  const r = await runCli(["status", "--json", ...args], env());
  return {
    code: r.code,
    stderr: r.stderr,
    body: JSON.parse(r.stdout) as { healthy: boolean; problems: string[] },
  };
}

describe("outbox-worker status exit codes", () => {
  it("exits 0 when every generation with open rows has a live worker", async () => {
    const gen = await newGeneration(db.current.pool, "v1");
    await publish(db.current.pool, gen, "order.placed", 2);
    await worker("w-live", gen, 0);
    const r = await runCli(["status"], env());
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(await statusJson()).toMatchObject({ code: 0, body: { healthy: true, problems: [] } });
  });

  it("exits 5 and names the generation when one is ORPHANED (open rows, no live worker)", async () => {
    const served = await newGeneration(db.current.pool, "v1");
    const orphan = await newGeneration(db.current.pool, "v2");
    await worker("w-live", served, 0);
    await publish(db.current.pool, orphan, "order.placed", 1);
    const r = await runCli(["status"], env());
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/ORPHANED/);
    expect(r.stderr).toBe(`unhealthy (exit 5): 1 orphaned generation(s): ${orphan}\n`);
    expect(await statusJson()).toMatchObject({
      code: 5,
      body: { healthy: false, problems: [`1 orphaned generation(s): ${orphan}`] },
    });
  });

  it("exits 5 for a STALE worker whose generation has open rows, 0 once the generation is empty", async () => {
    const gen = await newGeneration(db.current.pool, "v1");
    await worker("w-live", gen, 0);
    await worker("w-gone", gen, 3_600_000);
    const [id] = await publish(db.current.pool, gen, "order.placed", 1);
    const r = await runCli(["status"], env());
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/w-gone.*STALE/);
    expect(r.stderr).toBe("unhealthy (exit 5): 1 stale worker(s) in generations with open rows: w-gone\n");

    // The generation's work is done: the crashed worker's row is history, not a problem.
    await db.current.pool.query(
      "UPDATE cutover.outbox SET status = 'done', processed_at = now() WHERE id = $1",
      [id],
    );
    const after = await runCli(["status"], env());
    expect(after.stdout).toMatch(/w-gone.*STALE/);
    expect({ code: after.code, stderr: after.stderr }).toEqual({ code: 0, stderr: "" });
  });

  it("exits 5 when dead events exceed --max-dead, 0 at or under it, 2 for a bad value", async () => {
    const gen = await newGeneration(db.current.pool, "v1");
    await kill(await publish(db.current.pool, gen, "order.placed", 3));
    expect((await runCli(["status"], env())).code).toBe(0); // no threshold: dead rows alone are not unhealthy
    expect((await runCli(["status", "--max-dead", "3"], env())).code).toBe(0);
    const over = await runCli(["status", "--max-dead", "2"], env());
    expect(over.code).toBe(5);
    expect(over.stderr).toBe("unhealthy (exit 5): 3 dead event(s), more than --max-dead 2\n");
    expect(await statusJson(["--max-dead", "0"])).toMatchObject({ code: 5, body: { healthy: false } });
    const bad = await runCli(["status", "--max-dead", "some"], env());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-dead must be a non-negative integer; got "some"/);
  });
});

describe("outbox-worker dead exit codes", () => {
  it("`dead retry` of an id that does not exist exits 6 and changes nothing", async () => {
    const gen = await newGeneration(db.current.pool, "v1");
    const ids = await publish(db.current.pool, gen, "order.placed", 1);
    await kill(ids);
    const r = await runCli(["dead", "retry", "99999"], env());
    expect(r).toMatchObject({ code: 6, stdout: "requeued 0 dead event(s)\n" });
    expect(r.stderr).toMatch(/1 of the given ids were not dead \(or do not exist\); left untouched/);
    const { rows } = await db.current.pool.query("SELECT status FROM cutover.outbox WHERE id = $1", ids);
    expect(rows).toEqual([{ status: "dead" }]);
  });

  it("`dead retry` re-queues the dead ids it was given and exits 6 if any other was not dead", async () => {
    const gen = await newGeneration(db.current.pool, "v1");
    const [deadId, pendingId] = await publish(db.current.pool, gen, "order.placed", 2);
    await kill([deadId!]);
    const mixed = await runCli(["dead", "retry", deadId!, pendingId!], env());
    expect(mixed).toMatchObject({ code: 6, stdout: "requeued 1 dead event(s)\n" });
    await kill([deadId!]);
    expect(await runCli(["dead", "retry", deadId!, deadId!], env())).toEqual({
      code: 0,
      stdout: "requeued 1 dead event(s)\n",
      stderr: "",
    });
    // --all with nothing dead asked for nothing in particular: success.
    expect(await runCli(["dead", "retry", "--all"], env())).toMatchObject({ code: 0 });
  });

  it("`dead list` and `dead retry` with a generation never allocated exit 6", async () => {
    const gen = await newGeneration(db.current.pool, "v1");
    for (const args of [
      ["dead", "list", "--generation", "4242"],
      ["dead", "retry", "--all", "--generation", "4242"],
    ]) {
      const r = await runCli(args, env());
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({
        args,
        code: 6,
        stderr: "generation 4242 was never allocated\n",
      });
    }
    expect((await runCli(["dead", "list", "--generation", String(gen)], env())).code).toBe(0);
  });
});
