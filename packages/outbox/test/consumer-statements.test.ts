import { type Consumer, createConsumer, defineHandler, isCutoverError } from "@cutover/outbox";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { completedCount } from "./support/completion.js";
import { events, newGeneration, publisherFor, waitFor } from "./support/consumer.js";

const db = useTestDatabase();
const consumers: Consumer[] = [];
const pools: pg.Pool[] = [];

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop({ timeoutMs: 5000 })));
  await Promise.all(pools.splice(0).map((p) => p.end()));
});

function sharedPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: db.current.url, max: 12 });
  pool.on("error", () => {});
  pools.push(pool);
  return pool;
}

/** Named prepared statements held by every session the pool has open. */
async function preparedNames(pool: pg.Pool): Promise<string[]> {
  const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
  try {
    const names = new Set<string>();
    for (const c of clients) {
      const { rows } = await c.query<{ name: string }>("SELECT name FROM pg_prepared_statements");
      for (const r of rows) names.add(r.name);
    }
    return [...names].sort();
  } finally {
    for (const c of clients) c.release();
  }
}

async function publishBoth(pool: pg.Pool, generation: number, n: number): Promise<void> {
  const pub = await publisherFor(pool, generation);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await pub.publishBatch(
      client,
      Array.from({ length: n }, (_, i) => ({
        topic: i % 2 === 0 ? ("order.placed" as const) : ("order.shipped" as const),
        payload: { orderId: `o-${i}`, n: i },
      })),
    );
    await client.query("COMMIT");
  } finally {
    client.release();
  }
}

describe("consumer statements: prepared by default, unnamed on request", () => {
  it("consumers whose statements differ share one pool: no name collision, every event handled once", async () => {
    const pool = sharedPool();
    // A topic-filtered claim and a wildcard claim are different statement texts.
    const g1 = await newGeneration(pool, "filtered");
    const g2 = await newGeneration(pool, "wildcard");
    const seen = new Map<string, number>();
    const count = (name: string) => async (e: { id: string }) => {
      seen.set(`${name}:${e.id}`, (seen.get(`${name}:${e.id}`) ?? 0) + 1);
    };
    for (const [name, generation, topics] of [
      ["stmt.filtered", g1, ["order.placed", "order.shipped"]],
      ["stmt.wildcard", g2, ["*"]],
    ] as const) {
      const c = createConsumer({
        pool,
        generation,
        handlers: [defineHandler(events, { name, topics: [...topics], handle: count(name) })],
        pollIntervalMs: 50,
      });
      consumers.push(c);
      await c.start();
    }
    await publishBoth(pool, g1, 100);
    await publishBoth(pool, g2, 100);
    await waitFor(async () => (await completedCount(pool, g1)) + (await completedCount(pool, g2)) === 200);
    expect(seen.size).toBe(200);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    await Promise.all(consumers.splice(0).map((c) => c.stop({ timeoutMs: 5000 })));

    const names = await preparedNames(pool);
    // One claim statement per distinct text, each under its own hashed name.
    expect(names.filter((n) => n.startsWith("cutover_claim_"))).toHaveLength(2);
    expect(names.some((n) => n.startsWith("cutover_insertHandled_"))).toBe(true);
  });

  it("preparedStatements: false leaves no named statement on any session (PgBouncer transaction mode)", async () => {
    const pool = sharedPool();
    const generation = await newGeneration(pool);
    let handled = 0;
    const c = createConsumer({
      pool,
      generation,
      preparedStatements: false,
      handlers: [
        defineHandler(events, {
          name: "stmt.unnamed",
          topics: ["order.placed", "order.shipped"],
          handle: async () => {
            handled++;
          },
        }),
      ],
      pollIntervalMs: 50,
    });
    consumers.push(c);
    await c.start();
    await publishBoth(pool, generation, 50);
    await waitFor(() => handled === 50);
    await Promise.all(consumers.splice(0).map((x) => x.stop({ timeoutMs: 5000 })));
    // (The test's own publisher prepares its insert on the same pool.)
    const consumerNames = (await preparedNames(pool)).filter(
      (n) => n.startsWith("cutover_") && !n.startsWith("cutover_publish_"),
    );
    expect(consumerNames).toEqual([]);
  });

  it("rejects a non-boolean preparedStatements with CONFIG_INVALID naming the option", () => {
    let err: unknown;
    try {
      createConsumer({
        databaseUrl: db.current.url,
        generation: 1,
        handlers: [
          defineHandler(events, { name: "stmt.bad", topics: ["order.placed"], handle: async () => {} }),
        ],
        preparedStatements: "yes" as unknown as boolean,
      });
    } catch (e) {
      err = e;
    }
    expect(isCutoverError(err) && err.code).toBe("CONFIG_INVALID");
    expect(String((err as Error).message)).toContain("preparedStatements");
  });

  it("refuses a misspelled option, naming it and the option it resembles, instead of using the default", () => {
    const attempt = (extra: Record<string, unknown>) => {
      try {
        createConsumer({
          databaseUrl: db.current.url,
          generation: 1,
          handlers: [
            defineHandler(events, { name: "stmt.typo", topics: ["order.placed"], handle: async () => {} }),
          ],
          ...extra,
        });
      } catch (e) {
        return e;
      }
      return undefined;
    };
    const top = attempt({ concurency: 8 });
    expect(isCutoverError(top) && top.code).toBe("CONFIG_INVALID");
    expect((top as Error).message).toBe("unknown consumer option concurency (did you mean concurrency?)");
    const nested = attempt({ retention: { doneAfterMS: 1000 } });
    expect((nested as Error).message).toBe(
      "unknown consumer option retention.doneAfterMS (did you mean retention.doneAfterMs?)",
    );
    const far = attempt({ backoff: { jitter: true } });
    expect((far as Error).message).toBe("unknown consumer option backoff.jitter");
    // Not an object: refused, not spread into the defaults.
    expect((attempt({ backoff: "fast" }) as Error).message).toBe(
      'consumer option backoff must be an object; got "fast"',
    );
    expect((attempt({ retention: [1] }) as Error).message).toBe(
      "consumer option retention must be an object; got [1]",
    );
    // Every documented option is accepted (creating a consumer opens no connection until start()).
    expect(
      attempt({ listen: false, preparedStatements: false, backoff: { baseMs: 1, maxMs: 2 } }),
    ).toBeUndefined();
  });
});
