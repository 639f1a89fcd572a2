// Handlers with maxInFlight > 1 (no ctx.tx): a chunk runs their events
// overlapped, an ordering key's events still one after another, and the
// chunk's bookkeeping as for any other handler.
import { type CutoverError, defineHandler, type HandlerDefinition } from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { processChunk } from "../src/consumer/chunk/chunk.js";
import { validateHandler } from "../src/handler.js";
import { chunkEnv, claimRows, statusesOf } from "./support/chunk.js";
import { completedCount } from "./support/completion.js";
import {
  events,
  newGeneration,
  publisherFor,
  publishMany,
  useConsumers,
  waitFor,
} from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nOf = (e: { payload: unknown }) => (e.payload as { n: number }).n;

/** A handler that sleeps `delayMs(n)` per event and records how many of its runs were in flight at most. */
function gauge(name: string, maxInFlight: number | undefined, delayMs: (n: number) => number = () => 5) {
  const seen = { now: 0, max: 0, runs: 0 };
  const handler: HandlerDefinition = {
    name,
    topics: ["order.placed"],
    ...(maxInFlight === undefined ? {} : { maxInFlight }),
    async handle(e) {
      seen.now++;
      seen.runs++;
      seen.max = Math.max(seen.max, seen.now);
      try {
        await sleep(delayMs(nOf(e)));
      } finally {
        seen.now--;
      }
    },
  };
  return { handler, seen };
}

describe("maxInFlight: validation", () => {
  it("is an integer from 1 to 1024; anything else is HANDLER_INVALID naming the handler and the option", () => {
    const base = { name: "relay.x", topics: ["order.placed"], async handle() {} };
    for (const ok of [1, 64, 1024]) expect(() => validateHandler({ ...base, maxInFlight: ok })).not.toThrow();
    for (const bad of [0, -1, 1.5, 1025, Number.NaN, "8"]) {
      let err: CutoverError | undefined;
      try {
        validateHandler({ ...base, maxInFlight: bad as number });
      } catch (e) {
        err = e as CutoverError;
      }
      expect(err?.code, String(bad)).toBe("HANDLER_INVALID");
      expect(err?.message).toContain('handler "relay.x": maxInFlight must be an integer from 1 to 1024; got');
      expect(err?.details).toEqual({ handler: "relay.x", option: "maxInFlight" });
    }
    expect(() =>
      defineHandler(events, { ...base, topics: ["order.placed"], maxInFlight: 2000, async handle() {} }),
    ).toThrow(/maxInFlight must be an integer from 1 to 1024; got 2000/);
  });
});

describe("maxInFlight: one chunk", () => {
  it("runs up to maxInFlight of a chunk's events at once; the default runs them one after another", async () => {
    const pool = db.current.pool;
    for (const [limit, expectedMax] of [
      [undefined, 1],
      [1, 1],
      [8, 8],
    ] as const) {
      const gen = await newGeneration(pool, `overlap-${limit}`);
      const { handler, seen } = gauge("relay.gauge", limit, () => 20);
      const env = chunkEnv(pool, gen, [handler]);
      const res = await processChunk(env, await claimRows(pool, env, 24));
      expect(res.kind).toBe("committed");
      if (res.kind !== "committed") return;
      expect(seen.runs).toBe(24);
      expect(seen.max, `maxInFlight ${limit}`).toBe(expectedMax);
      expect(res.outcomes.map((o) => o.kind)).toEqual(Array(24).fill("done"));
      // Outcomes in claim order, whatever order the runs ended in.
      expect(res.outcomes.map((o) => nOf(o.event))).toEqual(Array.from({ length: 24 }, (_, n) => n));
      expect(res.cost).toMatchObject({ runs: 24, writes: 0 });
      expect((await statusesOf(pool, gen)).map((r) => r.status)).toEqual(Array(24).fill("completed"));
      const { rows } = await pool.query(
        "SELECT count(*)::int AS n FROM cutover.event_handled WHERE handler_name = 'relay.gauge' AND generation = $1",
        [gen],
      );
      expect(rows[0].n).toBe(24);
      await pool.query("DELETE FROM cutover.event_handled WHERE handler_name = 'relay.gauge'");
    }
  });

  it("an event that also reaches a handler without maxInFlight runs alone", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "overlap-mixed");
    const fast = gauge("relay.fast", 16, () => 10);
    let overlappedWithSlow = 0;
    const slow: HandlerDefinition = {
      name: "app.slow",
      topics: ["order.placed"],
      async handle(_e, ctx) {
        if (fast.seen.now > 0) overlappedWithSlow++;
        await ctx.tx.query("SELECT pg_sleep(0.002)");
      },
    };
    const env = chunkEnv(pool, gen, [fast.handler, slow]);
    const res = await processChunk(env, await claimRows(pool, env, 10));
    expect(res.kind).toBe("committed");
    if (res.kind !== "committed") return;
    expect(res.outcomes.map((o) => o.kind)).toEqual(Array(10).fill("done"));
    expect(res.cost).toMatchObject({ runs: 20, writes: 10 });
    expect(fast.seen.max).toBe(1);
    expect(overlappedWithSlow).toBe(0);
  });

  it("ctx.tx refuses every statement with a clear error naming the handler and maxInFlight; no savepoint is taken", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "overlap-tx");
    const handler: HandlerDefinition = {
      name: "relay.writes",
      topics: ["order.placed"],
      maxInFlight: 4,
      async handle(_e, ctx) {
        await ctx.tx.query("SELECT 1");
      },
    };
    const env = chunkEnv(pool, gen, [handler]);
    const res = await processChunk(env, await claimRows(pool, env, 3));
    expect(res.kind).toBe("committed");
    if (res.kind !== "committed") return;
    expect(res.cost).toMatchObject({ runs: 3, writes: 0 });
    for (const o of res.outcomes) {
      expect(o.kind).toBe("retry");
      if (o.kind !== "retry") continue;
      expect(o.error).toContain('handler "relay.writes" used ctx.tx, but it sets maxInFlight above 1');
    }
    // The error is a CutoverError the handler can catch and inspect.
    let caught: CutoverError | undefined;
    const inspect: HandlerDefinition = {
      name: "relay.inspects",
      topics: ["order.placed"],
      maxInFlight: 2,
      async handle(_e, ctx) {
        await ctx.tx.query("SELECT 1").catch((err: CutoverError) => {
          caught = err;
        });
      },
    };
    const gen2 = await newGeneration(pool, "overlap-tx-2");
    const env2 = chunkEnv(pool, gen2, [inspect]);
    const res2 = await processChunk(env2, await claimRows(pool, env2, 1));
    expect(res2.kind === "committed" && res2.outcomes[0]!.kind).toBe("done");
    expect(caught?.code).toBe("HANDLER_TX_CLOSED");
    expect(caught?.details).toEqual({ handler: "relay.inspects", option: "maxInFlight" });
  });

  it("ctx.tx refuses a submittable (a QueryStream or Cursor) by throwing, so its run fails with the clear error and no rejection goes unhandled", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "overlap-submit");
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const handler: HandlerDefinition = {
        name: "relay.streams",
        topics: ["order.placed"],
        maxInFlight: 2,
        async handle(_e, ctx) {
          // What pg-query-stream and pg-cursor hand to client.query: used at once, never awaited.
          const stream = ctx.tx.query({ submit() {} } as unknown as string) as unknown as { on: unknown };
          if (typeof stream?.on !== "function") throw new Error("not a stream");
        },
      };
      const env = chunkEnv(pool, gen, [handler]);
      const res = await processChunk(env, await claimRows(pool, env, 2));
      expect(res.kind).toBe("committed");
      if (res.kind !== "committed") return;
      for (const o of res.outcomes) {
        expect(o.kind).toBe("retry");
        if (o.kind === "retry") expect(o.error).toContain('handler "relay.streams" used ctx.tx');
      }
      await sleep(50);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("a run that times out fails its own event only; the others in flight with it are done", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "overlap-timeout");
    const handler: HandlerDefinition = {
      name: "relay.one-hangs",
      topics: ["order.placed"],
      maxInFlight: 8,
      timeoutMs: 200,
      async handle(e, ctx) {
        // Event 3 ignores its signal past the grace period: abandoned, not waited for.
        if (nOf(e) === 3) await sleep(2000);
        else if (nOf(e) === 5) await new Promise((_, reject) => ctx.signal.addEventListener("abort", reject));
        else await sleep(50);
      },
    };
    const env = chunkEnv(pool, gen, [handler]);
    const t0 = performance.now();
    const res = await processChunk(env, await claimRows(pool, env, 8));
    const took = performance.now() - t0;
    expect(res.kind).toBe("committed");
    if (res.kind !== "committed") return;
    expect(res.outcomes.map((o) => o.kind)).toEqual([
      "done",
      "done",
      "done",
      "retry",
      "done",
      "retry",
      "done",
      "done",
    ]);
    const errors = res.outcomes.map((o) => (o.kind === "retry" ? o.error : ""));
    expect(errors[3]).toContain("timed out after 200 ms and did not stop; it was abandoned");
    expect(errors[5]).toContain("timed out after 200 ms");
    // Overlapped: one timeout plus the grace period, not one per event.
    expect(took).toBeLessThan(1500);
    expect((await statusesOf(pool, gen)).map((r) => r.status)).toEqual([
      "completed",
      "completed",
      "completed",
      "pending",
      "completed",
      "pending",
      "completed",
      "completed",
    ]);
  });
});

describe("maxInFlight: ordering keys inside one chunk", () => {
  // The claim gives a chunk one event per key; these rows are given a shared
  // key after the claim, so the chunk itself must keep the key's order.
  it("an event starts after the one of its key before it ended; a failed one holds back the rest of its key, released with their attempt given back", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "overlap-keys");
    const log: string[] = [];
    const handler: HandlerDefinition = {
      name: "relay.keyed",
      topics: ["order.placed"],
      maxInFlight: 16,
      async handle(e) {
        const n = nOf(e);
        log.push(`start ${n}`);
        await sleep(n === 0 ? 60 : 5 + (n % 3) * 10);
        log.push(`end ${n}`);
        if (n === 4) throw new Error("event 4 fails");
      },
    };
    const env = chunkEnv(pool, gen, [handler]);
    const rows = await claimRows(pool, env, 9);
    // Key a: 0, 2, 5. Key b: 1, 4 (fails), 6, 8. No key: 3, 7.
    const keys = ["a", "b", "a", null, "b", "a", "b", null, "b"];
    rows.forEach((r, i) => {
      r.ordering_key = keys[i]!;
    });
    const res = await processChunk(env, rows);
    expect(res.kind).toBe("committed");
    if (res.kind !== "committed") return;
    const at = (what: string) => log.indexOf(what);
    // Key a in order, each after the previous ended; event 0 is slow, so 3 and 7 overlap it.
    expect(at("start 2")).toBeGreaterThan(at("end 0"));
    expect(at("start 5")).toBeGreaterThan(at("end 2"));
    expect(at("start 3")).toBeLessThan(at("end 0"));
    expect(at("start 4")).toBeGreaterThan(at("end 1"));
    // 4 failed: 6 and 8 never ran.
    expect(log).not.toContain("start 6");
    expect(log).not.toContain("start 8");
    expect(res.outcomes.map((o) => [nOf(o.event), o.kind])).toEqual([
      [0, "done"],
      [1, "done"],
      [2, "done"],
      [3, "done"],
      [4, "retry"],
      [5, "done"],
      [6, "released"],
      [7, "done"],
      [8, "released"],
    ]);
    const st = await statusesOf(pool, gen);
    expect(st[4]).toEqual({ status: "pending", attempts: 1 });
    expect(st[6]).toEqual({ status: "pending", attempts: 0 });
    expect(st[8]).toEqual({ status: "pending", attempts: 0 });
    // Their (handler, key) rows were forgotten with the failed one's: they run when claimed again.
    const { rows: handled } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM cutover.event_handled WHERE generation = $1",
      [gen],
    );
    expect(handled[0]!.n).toBe(6);
  });
});

describe("maxInFlight: through the consumer", () => {
  it("many keys interleaved, random delays, one failure: every event runs, each key in publish order, never two of a key at once", {
    timeout: 60_000,
  }, async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "overlap-consumer");
    const keys = 40;
    const perKey = 25;
    const total = keys * perKey + 200;
    const delivered = new Map<string, number[]>();
    const unkeyed = new Set<number>();
    const running = new Set<string>();
    const overlapsOfKey: string[] = [];
    let now = 0;
    let maxNow = 0;
    let failedOnce = false;
    const handler: HandlerDefinition = {
      name: "relay.ordered",
      topics: ["order.placed"],
      maxInFlight: 32,
      async handle(e) {
        const key = e.orderingKey;
        const n = nOf(e);
        if (key !== null && running.has(key)) overlapsOfKey.push(key);
        if (key !== null) running.add(key);
        now++;
        maxNow = Math.max(maxNow, now);
        try {
          await sleep(Math.random() * 8);
          if (key === "key-7" && n === 7 + 3 * keys && !failedOnce) {
            failedOnce = true;
            throw new Error("transient");
          }
          if (key === null) unkeyed.add(n);
          else delivered.set(key, [...(delivered.get(key) ?? []), n]);
        } finally {
          now--;
          if (key !== null) running.delete(key);
        }
      },
    };
    const consumer = consumers.create({
      generation: gen,
      concurrency: 2,
      batchSize: 100,
      pollIntervalMs: 50,
      backoff: { baseMs: 100, maxMs: 100 },
      handlers: [handler],
    });
    await consumer.start();
    // Keyed events interleaved round-robin over the keys; the last 200 have no key.
    await publishMany(pool, await publisherFor(pool, gen), total, {
      batch: 100,
      orderingKey: (i) => (i < keys * perKey ? `key-${i % keys}` : undefined),
    });
    await waitFor(() => [...delivered.values()].reduce((n, v) => n + v.length, 0) + unkeyed.size === total);
    expect(failedOnce).toBe(true);
    expect(overlapsOfKey).toEqual([]);
    expect(maxNow).toBeGreaterThan(1);
    expect(unkeyed.size).toBe(200);
    for (let k = 0; k < keys; k++) {
      expect(delivered.get(`key-${k}`), `key-${k}`).toEqual(
        Array.from({ length: perKey }, (_, j) => j * keys + k),
      );
    }
    await waitFor(async () => {
      const { rows } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM cutover.outbox WHERE generation = $1 AND status <> 'done'",
        [gen],
      );
      return rows[0]!.n === 0;
    });
    expect(await completedCount(pool, gen)).toBe(total);
  });
});
