import {
  allocateGeneration,
  createPublisher,
  defineEvents,
  isCutoverError,
  PayloadValidationError,
  type Publisher,
} from "@cutover/outbox";
import { channelFor } from "@cutover/outbox/internal";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { useTestDatabase } from "../../../test/harness/db.js";

const db = useTestDatabase();

const events = defineEvents({
  "order.placed": z.object({ orderId: z.string(), total: z.number().nonnegative() }),
  "order.cancelled": z.object({ orderId: z.string(), reason: z.string().optional() }),
});

let gen1: number;
let gen2: number;
let pub1: Publisher<typeof events.schemas>;
let pub2: Publisher<typeof events.schemas>;
let listener: pg.Client;
const notifications: Array<{ channel: string; payload: string | undefined }> = [];

beforeAll(async () => {
  gen1 = (await allocateGeneration(db.current.pool, { version: "v1" })).generation;
  gen2 = (await allocateGeneration(db.current.pool, { version: "v2" })).generation;
  pub1 = await createPublisher({ events, db: db.current.pool, generation: gen1 });
  pub2 = await createPublisher({ events, db: db.current.pool, env: { CUTOVER_GENERATION: String(gen2) } });
  listener = new pg.Client({ connectionString: db.current.url });
  await listener.connect();
  listener.on("notification", (n) => notifications.push({ channel: n.channel, payload: n.payload }));
  await listener.query(`LISTEN "${channelFor("cutover", gen1)}"`);
  await listener.query(`LISTEN "${channelFor("cutover", gen2)}"`);
});

afterAll(async () => {
  await listener.end();
});

async function rows() {
  const { rows } = await db.current.pool.query(
    "SELECT id::text, generation, topic, payload, headers, idempotency_key, ordering_key, status, attempts, available_at FROM cutover.outbox ORDER BY outbox.id",
  );
  return rows;
}

/** Notifications are delivered asynchronously; a round trip on the listener flushes them. */
async function settle() {
  await listener.query("SELECT 1");
  await new Promise((r) => setTimeout(r, 50));
  await listener.query("SELECT 1");
}

async function inTx<T>(
  fn: (c: pg.PoolClient) => Promise<T>,
  outcome: "COMMIT" | "ROLLBACK" = "COMMIT",
): Promise<T> {
  const c = await db.current.pool.connect();
  try {
    await c.query("BEGIN");
    const r = await fn(c);
    await c.query(outcome);
    return r;
  } catch (err) {
    await c.query("ROLLBACK");
    throw err;
  } finally {
    c.release();
  }
}

async function reset() {
  await db.current.pool.query("TRUNCATE cutover.outbox");
  await settle();
  notifications.length = 0;
}

describe("publish", () => {
  it("leaves no row and no notification when the caller's transaction rolls back", async () => {
    await reset();
    await inTx(async (c) => {
      await c.query("CREATE TEMP TABLE IF NOT EXISTS business (id int)");
      await c.query("INSERT INTO business VALUES (1)");
      await pub1.publish(c, "order.placed", { orderId: "o-1", total: 10 });
      await pub1.publishBatch(c, [{ topic: "order.placed", payload: { orderId: "o-2", total: 1 } }]);
    }, "ROLLBACK");
    await settle();
    expect(await rows()).toEqual([]);
    expect(notifications).toEqual([]);
  });

  it("commits exactly the rows, stamped with the generation, headers and keys, and one NOTIFY per call", async () => {
    await reset();
    const at = new Date(Date.now() + 60_000);
    const results = await inTx(async (c) => {
      const a = await pub1.publish(
        c,
        "order.placed",
        { orderId: "o-1", total: 10 },
        {
          idempotencyKey: "k-1",
          orderingKey: "cust-9",
          headers: { traceparent: "00-abc-def-01", tenant_id: "t-1" },
        },
      );
      const b = await pub1.publishBatch(c, [
        { topic: "order.placed", payload: { orderId: "o-2", total: 2 }, orderingKey: "cust-9" },
        { topic: "order.cancelled", payload: { orderId: "o-1" }, availableAt: at },
      ]);
      return [a, ...b];
    });
    await settle();
    const stored = await rows();
    expect(stored).toHaveLength(3);
    expect(stored.map((r) => r.generation)).toEqual([gen1, gen1, gen1]);
    expect(stored.map((r) => r.id)).toEqual(results.map((r) => r.id));
    expect(stored[0]).toMatchObject({
      topic: "order.placed",
      payload: { orderId: "o-1", total: 10 },
      headers: { traceparent: "00-abc-def-01", tenant_id: "t-1" },
      idempotency_key: "k-1",
      ordering_key: "cust-9",
      status: "pending",
      attempts: 0,
    });
    expect(stored[1].ordering_key).toBe("cust-9");
    expect(stored[1].idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
    expect(stored[2].available_at.getTime()).toBe(at.getTime());
    // Publish order is id order (what ordering keys rely on).
    expect(BigInt(stored[0].id) < BigInt(stored[1].id) && BigInt(stored[1].id) < BigInt(stored[2].id)).toBe(
      true,
    );
    expect(notifications.map((n) => n.channel)).toEqual([
      channelFor("cutover", gen1),
      channelFor("cutover", gen1),
    ]);
  });

  it("defaults each idempotency key to a UUIDv7 that sorts in publish order; a caller's key is stored as given", async () => {
    await reset();
    const before = Date.now();
    const results = await inTx(async (c) => {
      const batch = await pub1.publishBatch(
        c,
        Array.from({ length: 300 }, (_, n) =>
          n === 150
            ? {
                topic: "order.placed" as const,
                payload: { orderId: `o-${n}`, total: n },
                idempotencyKey: "Mine-1",
              }
            : { topic: "order.placed" as const, payload: { orderId: `o-${n}`, total: n } },
        ),
      );
      const single = await pub1.publish(c, "order.cancelled", { orderId: "o-x" });
      return [...batch, single];
    });
    const after = Date.now();
    const stored = await rows();
    expect(stored.map((r) => r.idempotency_key)).toEqual(results.map((r) => r.idempotencyKey));
    expect(results[150]!.idempotencyKey).toBe("Mine-1");
    // Options left out of the statement's document are stored as their defaults.
    expect(stored.every((r) => r.ordering_key === null && JSON.stringify(r.headers) === "{}")).toBe(true);
    const generated = results.filter((_, n) => n !== 150).map((r) => r.idempotencyKey);
    expect(generated).toHaveLength(300);
    for (const key of generated) {
      // RFC 9562: version nibble 7, variant bits 10.
      expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // The first 48 bits are the Unix time in ms of the publish.
      const ms = Number.parseInt(key.replaceAll("-", "").slice(0, 12), 16);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
    }
    // Strictly increasing in publish order, also within one millisecond.
    expect([...generated].sort()).toEqual(generated);
    expect(new Set(generated).size).toBe(generated.length);
  });

  it("stores keys, ordering keys, tenants and headers byte for byte, whatever characters they hold", async () => {
    await reset();
    // The columns travel as PostgreSQL array literals: every character that
    // means something there (quote, backslash, comma, braces, blanks, the
    // word NULL) must come back unchanged.
    const awkward = ['a"b', "c\\d", "e,f", "{g}", " h ", "NULL", "null", "ü \u2028 😀", '\\"', "x\ny"];
    const items = awkward.map((text, n) => ({
      topic: (n % 2 === 0 ? "order.placed" : "order.cancelled") as "order.placed",
      // Valid for both topics' schemas (order.cancelled's has no total: it would strip one).
      payload: n % 2 === 0 ? { orderId: text, total: n } : ({ orderId: text, reason: text } as never),
      idempotencyKey: text,
      orderingKey: text,
      tenant: text,
      headers: { h: text, [text]: "v" },
    }));
    // A generated key, no ordering key, tenant or headers between them: NULL elements.
    items.splice(3, 0, { topic: "order.placed", payload: { orderId: "plain", total: 99 } } as never);
    const results = await inTx((c) => pub1.publishBatch(c, items));
    const { rows: stored } = await db.current.pool.query(
      "SELECT id::text, topic, payload, headers, idempotency_key, ordering_key, tenant FROM cutover.outbox ORDER BY id",
    );
    expect(stored.map((r) => r.id)).toEqual(results.map((r) => r.id));
    expect(results.every((r) => !r.duplicate)).toBe(true);
    expect(stored.map((r) => r.idempotency_key)).toEqual(results.map((r) => r.idempotencyKey));
    stored.forEach((r, n) => {
      const item = items[n]!;
      expect(r.topic).toBe(item.topic);
      expect(r.payload).toEqual(item.payload);
      expect(r.ordering_key).toBe(item.orderingKey ?? null);
      expect(r.tenant).toBe(item.tenant ?? null);
      expect(r.headers).toEqual(item.headers ?? {});
      if (item.idempotencyKey !== undefined) expect(r.idempotency_key).toBe(item.idempotencyKey);
    });
    // The same keys again (same topics): all duplicates, nothing written.
    const again = await inTx((c) =>
      pub1.publishBatch(
        c,
        items.filter((i) => i.idempotencyKey !== undefined),
      ),
    );
    expect(again.every((r) => r.duplicate && r.id === undefined)).toBe(true);
    expect(await rows()).toHaveLength(items.length);
  });

  it("returns each generated-key event's id in input order, also while other sessions publish", async () => {
    await reset();
    // Batches whose keys are all generated get their ids back as one list in
    // id order; the insert assigns ids in input order, so the list lines up
    // with the items even when two sessions draw from the sequence at once.
    const batch = (from: number) =>
      Array.from({ length: 1000 }, (_, n) => ({
        topic: "order.placed" as const,
        payload: { orderId: `s-${from + n}`, total: from + n },
      }));
    const results = await Promise.all(
      [0, 1000, 2000, 3000].map((from) => inTx((c) => pub1.publishBatch(c, batch(from)))),
    );
    const { rows: stored } = await db.current.pool.query<{
      id: string;
      total: number;
      idempotency_key: string;
    }>("SELECT id::text, (payload->>'total')::int AS total, idempotency_key FROM cutover.outbox");
    const byId = new Map(stored.map((r) => [r.id, r]));
    expect(stored).toHaveLength(4000);
    results.forEach((res, b) => {
      expect(res).toHaveLength(1000);
      res.forEach((r, n) => {
        expect(r.duplicate).toBe(false);
        const row = byId.get(r.id!);
        expect(row?.total).toBe(b * 1000 + n);
        expect(row?.idempotency_key).toBe(r.idempotencyKey);
      });
    });
  });

  it("notifies each generation on its own channel", async () => {
    await reset();
    await inTx((c) => pub2.publish(c, "order.placed", { orderId: "g2", total: 0 }));
    await settle();
    expect(notifications.map((n) => n.channel)).toEqual([channelFor("cutover", gen2)]);
    expect((await rows())[0].generation).toBe(gen2);
  });

  it("with notify: false commits the rows and sends no NOTIFY (consumers poll)", async () => {
    await reset();
    const quiet = await createPublisher({ events, db: db.current.pool, generation: gen2, notify: false });
    const results = await inTx(async (c) => [
      await quiet.publish(c, "order.placed", { orderId: "q-1", total: 1 }),
      ...(await quiet.publishBatch(c, [{ topic: "order.cancelled", payload: { orderId: "q-1" } }])),
    ]);
    // Control: the default publisher on the same channel is heard.
    await inTx((c) => pub2.publish(c, "order.placed", { orderId: "q-2", total: 2 }));
    await settle();
    expect(results.map((r) => r.duplicate)).toEqual([false, false]);
    expect((await rows()).map((r) => r.generation)).toEqual([gen2, gen2, gen2]);
    expect(notifications).toHaveLength(1);
    await expect(
      createPublisher({ events, db: db.current.pool, generation: gen2, notify: "no" as unknown as boolean }),
    ).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });

  it("prepares the insert once per connection on a pg client; preparedStatements: false never names it", async () => {
    await reset();
    const unnamed = await createPublisher({
      events,
      db: db.current.pool,
      generation: gen2,
      preparedStatements: false,
    });
    const client = await db.current.pool.connect();
    const named = async () =>
      (
        await client.query<{ name: string }>(
          "SELECT name FROM pg_prepared_statements WHERE name LIKE 'cutover_publish%'",
        )
      ).rows.map((r) => r.name);
    try {
      await client.query("DEALLOCATE ALL");
      (client as unknown as { connection: { parsedStatements: object } }).connection.parsedStatements = {};
      await client.query("BEGIN");
      await unnamed.publish(client, "order.placed", { orderId: "u-1", total: 1 });
      expect(await named()).toEqual([]);
      await pub2.publish(client, "order.placed", { orderId: "n-1", total: 1 });
      await pub2.publish(client, "order.placed", { orderId: "n-2", total: 2 });
      await pub2.publishBatch(client, [{ topic: "order.cancelled", payload: { orderId: "n-1" } }]);
      await client.query("COMMIT");
      // One prepared statement serves every later publish on this connection.
      expect(await named()).toHaveLength(1);
    } finally {
      client.release();
    }
    expect((await rows()).map((r) => r.payload.orderId)).toEqual(["u-1", "n-1", "n-2", "n-1"]);
    await expect(
      createPublisher({
        events,
        db: db.current.pool,
        generation: gen2,
        preparedStatements: 1 as unknown as boolean,
      }),
    ).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });

  it("works inside a kysely transaction", async () => {
    await reset();
    const k = new Kysely<Record<string, never>>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.current.url }) }),
    });
    try {
      await k.transaction().execute(async (tx) => {
        await pub1.publish(tx, "order.placed", { orderId: "k-1", total: 3 });
      });
      await k
        .transaction()
        .execute(async (tx) => {
          await pub1.publish(tx, "order.placed", { orderId: "k-2", total: 3 });
          throw new Error("business failure");
        })
        .catch(() => {});
      const err = await pub1.publish(k, "order.placed", { orderId: "k-3", total: 3 }).catch((e) => e);
      expect(isCutoverError(err, "DB_HANDLE_INVALID")).toBe(true);
    } finally {
      await k.destroy();
    }
    expect((await rows()).map((r) => r.payload.orderId)).toEqual(["k-1"]);
  });

  it("refuses a pg Pool, which cannot hold the caller's transaction", async () => {
    const err = await pub1
      .publish(db.current.pool, "order.placed", { orderId: "p", total: 1 })
      .catch((e) => e);
    expect(isCutoverError(err, "DB_HANDLE_INVALID")).toBe(true);
  });

  it("refuses a client that is not inside a transaction: the event would commit without the business write", async () => {
    await reset();
    const client = await db.current.pool.connect();
    try {
      // Forgot BEGIN: refused before anything is written, and the client stays usable.
      const err = await pub1.publish(client, "order.placed", { orderId: "auto", total: 1 }).catch((e) => e);
      expect(isCutoverError(err, "DB_HANDLE_INVALID")).toBe(true);
      expect((err as Error).message).toMatch(/not inside BEGIN \.\.\. COMMIT.*run BEGIN first/);
      const batchErr = await pub1
        .publishBatch(client, [{ topic: "order.placed", payload: { orderId: "auto-b", total: 1 } }])
        .catch((e) => e);
      expect(isCutoverError(batchErr, "DB_HANDLE_INVALID")).toBe(true);
      // After BEGIN (awaited) it publishes, and a rollback takes the event with it.
      await client.query("BEGIN");
      await pub1.publish(client, "order.placed", { orderId: "in-tx", total: 1 });
      await client.query("ROLLBACK");
      // A failed transaction is still a transaction: Postgres itself refuses the insert.
      await client.query("BEGIN");
      await client.query("SELECT 1/0").catch(() => {});
      await expect(
        pub1.publish(client, "order.placed", { orderId: "aborted", total: 1 }),
      ).rejects.toMatchObject({
        code: "25P02",
      });
      await client.query("ROLLBACK");
      // A BEGIN sent without await is still pending on the client: not refused, and the
      // event is in that transaction (pg sends the statements in order).
      const begin = client.query("BEGIN");
      await pub1.publish(client, "order.placed", { orderId: "pending-begin", total: 1 });
      await begin;
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    // The same on a client in pg's pipeline mode, where the BEGIN is already on the wire.
    const piped = new pg.Client({ connectionString: db.current.url, pipeline: true } as pg.ClientConfig);
    await piped.connect();
    try {
      const begin = piped.query("BEGIN");
      await pub1.publish(piped, "order.placed", { orderId: "piped-begin", total: 1 });
      await begin;
      await piped.query("ROLLBACK");
      const err = await pub1.publish(piped, "order.placed", { orderId: "piped", total: 1 }).catch((e) => e);
      expect(isCutoverError(err, "DB_HANDLE_INVALID")).toBe(true);
    } finally {
      await piped.end();
    }
    expect(await rows()).toEqual([]);
  });

  it("treats a repeated (topic, idempotency key) as a no-op reported as duplicate", async () => {
    await reset();
    const first = await inTx((c) =>
      pub1.publish(c, "order.placed", { orderId: "d", total: 1 }, { idempotencyKey: "same" }),
    );
    const again = await inTx((c) =>
      pub1.publishBatch(c, [
        { topic: "order.placed", payload: { orderId: "d", total: 1 }, idempotencyKey: "same" },
        { topic: "order.cancelled", payload: { orderId: "d" }, idempotencyKey: "same" },
        { topic: "order.cancelled", payload: { orderId: "d" }, idempotencyKey: "same" },
      ]),
    );
    expect(first.duplicate).toBe(false);
    expect(again.map((r) => r.duplicate)).toEqual([true, false, true]);
    expect((await rows()).map((r) => r.topic)).toEqual(["order.placed", "order.cancelled"]);
    // Every key once in the call (the statement returns only id and key): an
    // existing key is a duplicate, the new ones get their own ids.
    const lean = await inTx((c) =>
      pub1.publishBatch(c, [
        { topic: "order.cancelled", payload: { orderId: "e" }, idempotencyKey: "k-new-1" },
        { topic: "order.placed", payload: { orderId: "d", total: 1 }, idempotencyKey: "same" },
        { topic: "order.cancelled", payload: { orderId: "f" }, idempotencyKey: "k-new-2" },
      ]),
    );
    expect(lean.map((r) => r.duplicate)).toEqual([false, true, false]);
    const { rows: stored } = await db.current.pool.query<{ id: string; idempotency_key: string }>(
      "SELECT id::text, idempotency_key FROM cutover.outbox WHERE idempotency_key IN ('k-new-1', 'k-new-2') ORDER BY id",
    );
    expect(lean.filter((r) => !r.duplicate).map((r) => [r.id, r.idempotencyKey])).toEqual(
      stored.map((r) => [r.id, r.idempotency_key]),
    );
  });

  it("rejects an invalid payload with the zod issues and writes nothing, leaving the transaction usable", async () => {
    await reset();
    await inTx(async (c) => {
      const err = await pub1.publish(c, "order.placed", { orderId: 7, total: -1 } as never).catch((e) => e);
      expect(err).toBeInstanceOf(PayloadValidationError);
      expect(err.code).toBe("PAYLOAD_INVALID");
      expect(err.issues.map((i: { path: unknown[] }) => i.path.join("."))).toEqual(["orderId", "total"]);
      expect(err.message).toContain("orderId");
      const batchErr = await pub1
        .publishBatch(c, [
          { topic: "order.placed", payload: { orderId: "ok", total: 1 } },
          { topic: "order.placed", payload: { orderId: "bad" } as never },
        ])
        .catch((e) => e);
      expect(batchErr.code).toBe("PAYLOAD_INVALID");
      expect(batchErr.message).toContain("batch item 1");
      // The caller's transaction was not aborted: it can still publish.
      await pub1.publish(c, "order.placed", { orderId: "after", total: 1 });
    });
    expect((await rows()).map((r) => r.payload.orderId)).toEqual(["after"]);
  });

  it("rejects an unknown topic and bad options with typed errors", async () => {
    await reset();
    await inTx(async (c) => {
      const unknown = await pub1.publish(c, "order.shipped" as never, {} as never).catch((e) => e);
      expect(isCutoverError(unknown, "TOPIC_UNKNOWN")).toBe(true);
      expect(unknown.message).toContain("order.shipped");
      // A topic that is not a string at all (a variable that was undefined) says so.
      const missing = await pub1.publish(c, undefined as never, {} as never).catch((e) => e);
      expect(isCutoverError(missing, "TOPIC_UNKNOWN")).toBe(true);
      expect(missing.message).toMatch(
        /^topic must be a string; got undefined; declared topics: order.placed/,
      );
      const badKey = await pub1
        .publish(c, "order.placed", { orderId: "x", total: 1 }, { idempotencyKey: "" })
        .catch((e) => e);
      expect(isCutoverError(badKey, "PUBLISH_OPTIONS_INVALID")).toBe(true);
      const badHeaders = await pub1
        .publish(c, "order.placed", { orderId: "x", total: 1 }, { headers: { n: 1 } as never })
        .catch((e) => e);
      expect(isCutoverError(badHeaders, "PUBLISH_OPTIONS_INVALID")).toBe(true);
    });
    expect(await rows()).toEqual([]);
    // A publisher without its catalog fails when created, naming the option (not a TypeError at publish).
    const noEvents = await createPublisher({ db: db.current.pool, generation: gen1 } as never).catch(
      (e) => e,
    );
    expect(isCutoverError(noEvents, "CONFIG_INVALID")).toBe(true);
    expect(noEvents.message).toMatch(/needs `events`/);
  });

  it("refuses a schema that does not accept its own stored output (z.date(), a value-changing transform)", async () => {
    await reset();
    // Consumers given the catalog parse the stored JSON again: these would go
    // dead (z.date() gets a string) or reach handlers divided by 100 twice.
    const risky = defineEvents({
      "meeting.set": z.object({ at: z.date() }),
      "price.set": z.object({ euros: z.number().transform((cents) => cents / 100) }),
      // Fine: output parses back to itself.
      "meeting.moved": z.object({ at: z.coerce.date(), sku: z.string().transform((t) => t.toUpperCase()) }),
    });
    const pub = await createPublisher({ events: risky, db: db.current.pool, generation: gen1 });
    await inTx(async (c) => {
      const date = await pub.publish(c, "meeting.set", { at: new Date() }).catch((e) => e);
      expect(isCutoverError(date, "PAYLOAD_INVALID")).toBe(true);
      expect(date.message).toMatch(/^the schema of topic "meeting.set" rejects its own stored output \(at: /);
      expect(date.message).toContain("z.coerce.date()");
      const price = await pub
        .publishBatch(c, [{ topic: "price.set", payload: { euros: 1250 } }])
        .catch((e) => e);
      expect(isCutoverError(price, "PAYLOAD_INVALID")).toBe(true);
      expect(price.message).toMatch(/topic "price.set" \(batch item 0\) changes its own stored output/);
      await pub.publish(c, "meeting.moved", { at: new Date("2026-01-05T10:00:00Z"), sku: "abc" });
    });
    expect((await rows()).map((r) => [r.topic, r.payload])).toEqual([
      ["meeting.moved", { at: "2026-01-05T10:00:00.000Z", sku: "ABC" }],
    ]);
  });

  it("refuses payloads Postgres could not store, without aborting the caller's transaction", async () => {
    await reset();
    const loose = defineEvents({ any: z.any() });
    const pub = await createPublisher({
      events: loose,
      db: db.current.pool,
      generation: gen1,
      maxPayloadBytes: 1000,
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await inTx(async (c) => {
      for (const [payload, code] of [
        [{ n: 10n }, "PAYLOAD_NOT_SERIALIZABLE"],
        [circular, "PAYLOAD_NOT_SERIALIZABLE"],
        [{ s: "\ud800" }, "PAYLOAD_NOT_SERIALIZABLE"],
        [{ s: "nul\u0000" }, "PAYLOAD_NOT_SERIALIZABLE"],
        [{ s: "x".repeat(2000) }, "PAYLOAD_TOO_LARGE"],
        [undefined, "PAYLOAD_NOT_SERIALIZABLE"],
      ] as const) {
        const err = await pub.publish(c, "any", payload).catch((e) => e);
        expect(isCutoverError(err, code), String(code)).toBe(true);
      }
      // Escaped-looking text and real astral characters are fine.
      await pub.publish(c, "any", { s: "\\ud800 \\u0000 😀 ünïcödé" });
    });
    expect((await rows()).map((r) => r.payload.s)).toEqual(["\\ud800 \\u0000 😀 ünïcödé"]);
  });

  it("refuses an unstorable payload in a batch by its item, after the topic's first publish (payloads serialized together)", async () => {
    await reset();
    const loose = defineEvents({ any: z.any() });
    const pub = await createPublisher({
      events: loose,
      db: db.current.pool,
      generation: gen1,
      maxPayloadBytes: 1000,
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const undefinedJson = { toJSON: () => undefined };
    await inTx(async (c) => {
      // The topic's first publish is checked on its own (checkStoredForm); later
      // batches serialize their payloads as one array.
      await pub.publish(c, "any", { s: "first" });
      for (const [payload, code] of [
        [{ n: 10n }, "PAYLOAD_NOT_SERIALIZABLE"],
        [circular, "PAYLOAD_NOT_SERIALIZABLE"],
        [{ s: "\ud800" }, "PAYLOAD_NOT_SERIALIZABLE"],
        [{ s: "nul\u0000" }, "PAYLOAD_NOT_SERIALIZABLE"],
        [{ s: "x".repeat(2000) }, "PAYLOAD_TOO_LARGE"],
        // As an array element these would serialize as null: refused as when alone.
        [undefined, "PAYLOAD_NOT_SERIALIZABLE"],
        [undefinedJson, "PAYLOAD_NOT_SERIALIZABLE"],
      ] as const) {
        const err = await pub
          .publishBatch(c, [
            { topic: "any", payload: { s: "ok-0" } },
            { topic: "any", payload: { s: "ok-1" } },
            { topic: "any", payload },
            { topic: "any", payload: { s: "ok-3" } },
          ])
          .catch((e) => e);
        expect(isCutoverError(err, code), String(code)).toBe(true);
        expect(err.details).toMatchObject({ topic: "any", field: "payload", index: 2 });
      }
      // The limit is per payload: a batch larger than it, of payloads within it, goes in.
      const big = Array.from({ length: 5 }, (_, n) => ({
        topic: "any" as const,
        payload: { s: `${n}`.repeat(900) },
      }));
      expect(await pub.publishBatch(c, big)).toHaveLength(5);
    });
    expect((await rows()).map((r) => r.payload.s.slice(0, 5))).toEqual([
      "first",
      "00000",
      "11111",
      "22222",
      "33333",
      "44444",
    ]);
  });

  it("refuses to start for a generation that was never allocated", async () => {
    const err = await createPublisher({ events, db: db.current.pool, generation: 9999 }).catch((e) => e);
    expect(isCutoverError(err, "GENERATION_NOT_ALLOCATED")).toBe(true);
    const bad = await createPublisher({
      events,
      db: db.current.pool,
      env: { CUTOVER_GENERATION: "two" },
    }).catch((e) => e);
    expect(isCutoverError(bad, "GENERATION_INVALID")).toBe(true);
  });
});
