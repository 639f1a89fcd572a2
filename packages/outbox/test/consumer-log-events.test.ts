import { defineHandler, type Logger } from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { events, newGeneration, publisherFor, publishMany, useConsumers } from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

const OUTCOME_LINES = ["event handled", "event failed; retrying", "event dead", "consumer state"];

function capture(): {
  logger: Logger;
  lines: Array<{ level: string; msg: string | undefined; obj: object }>;
} {
  const lines: Array<{ level: string; msg: string | undefined; obj: object }> = [];
  const at = (level: string) => (obj: Record<string, unknown>, msg?: string) =>
    lines.push({ level, msg, obj });
  return { logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

/** Runs 4 events (n = 0..3) through a consumer whose handler fails n = 1 once and n = 2 for good. */
async function runOutcomes(logEvents: boolean | undefined) {
  const pool = db.current.pool;
  const gen = await newGeneration(pool, `log-${logEvents}`);
  await publishMany(pool, await publisherFor(pool, gen), 4);
  const failedOnce = new Set<string>();
  const log = capture();
  const c = consumers.create({
    generation: gen,
    handlers: [
      defineHandler(events, {
        name: "test.outcomes",
        topics: ["order.placed"],
        handle: async (e) => {
          if (e.payload.n === 2) throw new Error("always");
          if (e.payload.n === 1 && !failedOnce.has(e.id)) {
            failedOnce.add(e.id);
            throw new Error("once");
          }
        },
      }),
    ],
    maxAttempts: 2,
    pollIntervalMs: 50,
    backoff: { baseMs: 1, maxMs: 5 },
    logger: log.logger,
    ...(logEvents === undefined ? {} : { logEvents }),
  });
  const seen = { handled: 0, failed: 0, dead: 0, state: 0 };
  c.on("handled", () => seen.handled++);
  c.on("failed", () => seen.failed++);
  c.on("dead", () => seen.dead++);
  c.on("state", () => seen.state++);
  const res = await c.drain({ timeoutMs: 20_000 });
  await c.stop();
  return { res, seen, lines: log.lines };
}

describe("outcomes are reported once: typed events, and log lines written from them", () => {
  it("by default logs each outcome through the logger, with the event's fields", async () => {
    const { res, seen, lines } = await runOutcomes(undefined);
    expect(res).toMatchObject({ handled: 3, dead: 1, remaining: 0 });
    const count = (msg: string) => lines.filter((l) => l.msg === msg).length;
    expect(count("event handled")).toBe(seen.handled);
    expect(count("event dead")).toBe(seen.dead);
    // Three failures: n = 1 once (retried), n = 2 twice (retried, then dead).
    expect(seen.failed).toBe(3);
    expect(count("event failed; retrying")).toBe(2);
    expect(count("consumer state")).toBe(seen.state);
    const dead = lines.find((l) => l.msg === "event dead")!;
    expect(dead.level).toBe("warn");
    expect(dead.obj).toMatchObject({ topic: "order.placed", attempt: 2, error: "test.outcomes: always" });
    expect(Object.keys(dead.obj)).toEqual([
      "id",
      "topic",
      "attempt",
      "idempotencyKey",
      "tenant",
      "headers",
      "error",
    ]);
  });

  it("with logEvents: false emits the same events and logs none of them", async () => {
    const { res, seen, lines } = await runOutcomes(false);
    expect(res).toMatchObject({ handled: 3, dead: 1, remaining: 0 });
    expect(seen).toMatchObject({ handled: 3, failed: 3, dead: 1 });
    expect(lines.filter((l) => OUTCOME_LINES.includes(l.msg ?? ""))).toEqual([]);
  });
});
