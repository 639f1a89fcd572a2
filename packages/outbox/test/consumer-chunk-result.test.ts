import type { HandlerDefinition } from "@cutover/outbox";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import type { ChunkEnv } from "../src/consumer/chunk/chunk.js";
import { processChunk } from "../src/consumer/chunk/chunk.js";
import { claimRows, chunkEnv as envFor, statusesOf } from "./support/chunk.js";
import { newGeneration } from "./support/consumer.js";

const db = useTestDatabase();

const claimed = (env: ChunkEnv, n: number) => claimRows(db.current.pool, env, n);
const statuses = (generation: number) => statusesOf(db.current.pool, generation);

describe("a chunk returns what happened as a value", () => {
  it("committed: done and retry outcomes, nothing deferred or fenced, and what its runs cost", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "chunk-committed");
    const handler: HandlerDefinition = {
      name: "odd-fails",
      topics: ["order.placed"],
      async handle(e, ctx) {
        await ctx.tx.query("SELECT 1");
        if ((e.payload as { n: number }).n % 2 === 1) throw new Error("odd");
      },
    };
    const env = envFor(pool, gen, [handler]);
    const res = await processChunk(env, await claimed(env, 4));
    expect(res.kind).toBe("committed");
    if (res.kind !== "committed") return;
    expect(res.outcomes.map((o) => o.kind)).toEqual(["done", "retry", "done", "retry"]);
    expect(res.deferred).toEqual([]);
    expect(res.fencedOut).toEqual([]);
    expect(res.cost).toMatchObject({ runs: 4, writes: 4 });
    expect((await statuses(gen)).map((r) => r.status)).toEqual([
      "completed",
      "pending",
      "completed",
      "pending",
    ]);
  });

  it("failed: a lost connection releases every row with its attempt given back, and says why", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "chunk-failed");
    const handler: HandlerDefinition = {
      name: "kills-its-connection",
      topics: ["order.placed"],
      async handle(_e, ctx) {
        await ctx.tx.query("SELECT pg_terminate_backend(pg_backend_pid())");
      },
    };
    const env = envFor(pool, gen, [handler]);
    const res = await processChunk(env, await claimed(env, 2));
    expect(res.kind).toBe("failed");
    if (res.kind !== "failed") return;
    expect(res.error).toBeInstanceOf(Error);
    expect(res.outcomes.map((o) => o.kind)).toEqual(["released", "released"]);
    expect(res.unreleased).toEqual([]);
    expect(await statuses(gen)).toEqual([
      { status: "pending", attempts: 0 },
      { status: "pending", attempts: 0 },
    ]);
  });

  it("failed with nothing released when the database does not answer: the outcomes come back unreleased", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "chunk-unreachable");
    const handler: HandlerDefinition = { name: "never-runs", topics: ["order.placed"], async handle() {} };
    const rows = await claimed(envFor(pool, gen, [handler]), 2);
    // Nothing listens on port 1: connect and release both fail.
    const dead = new pg.Pool({ host: "127.0.0.1", port: 1, connectionTimeoutMillis: 500 });
    try {
      const res = await processChunk(envFor(dead, gen, [handler]), rows);
      expect(res.kind).toBe("failed");
      if (res.kind !== "failed") return;
      expect(res.outcomes).toEqual([]);
      expect(res.unreleased.map((o) => [o.kind, o.event.id])).toEqual(rows.map((r) => ["released", r.id]));
    } finally {
      await dead.end();
    }
    expect((await statuses(gen)).map((r) => r.status)).toEqual(["in_flight", "in_flight"]);
  });
});
