import { type Consumer, createConsumer } from "@cutover/outbox";
import { afterEach, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { newGeneration, publisherFor, publishMany, waitFor } from "./support/consumer.js";

const db = useTestDatabase();
const consumers: Consumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop({ timeoutMs: 5000 })));
});

describe("ordering keys", () => {
  it("with concurrency 8 (two consumers), each key's events run one at a time in publish order; a failing event holds back only its key", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool, "order");
    const keys = 16;
    const perKey = 25;
    const order = new Map<string, number[]>();
    const running = new Set<string>();
    const overlaps: string[] = [];
    let failedOnce = false;
    const handler = {
      name: "order.sequence",
      topics: ["order.placed"],
      async handle(event: { payload: unknown; orderingKey: string | null }) {
        const key = event.orderingKey!;
        if (running.has(key)) overlaps.push(key);
        running.add(key);
        try {
          const n = (event.payload as { n: number }).n;
          await new Promise((r) => setTimeout(r, Math.random() * 3));
          // key-0's third event fails once: key-0 waits for its retry, the other keys go on.
          if (key === "key-0" && n === 2 * keys && !failedOnce) {
            failedOnce = true;
            throw new Error("transient");
          }
          order.set(key, [...(order.get(key) ?? []), n]);
        } finally {
          running.delete(key);
        }
      },
    };
    for (const id of ["a", "b"]) {
      consumers.push(
        createConsumer({
          databaseUrl: db.current.url,
          generation: gen,
          concurrency: 4,
          batchSize: 10,
          pollIntervalMs: 50,
          backoff: { baseMs: 200, maxMs: 200 },
          workerId: `order-${id}`,
          handlers: [handler],
        }),
      );
    }
    await Promise.all(consumers.map((c) => c.start()));
    await publishMany(db.current.pool, await publisherFor(pool, gen), keys * perKey, {
      batch: 40,
      orderingKey: (i) => `key-${i % keys}`,
    });
    await waitFor(() => [...order.values()].reduce((n, v) => n + v.length, 0) === keys * perKey);
    expect(overlaps).toEqual([]);
    expect(failedOnce).toBe(true);
    for (let k = 0; k < keys; k++) {
      const expected = Array.from({ length: perKey }, (_, j) => j * keys + k);
      expect(order.get(`key-${k}`)).toEqual(expected);
    }
  });
});
