import {
  allocateGeneration,
  createConsumer,
  createPublisher,
  defineEvents,
  defineHandler,
  isCutoverError,
  migrate,
  outboxStatus,
} from "@cutover/outbox";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { useTestDatabase } from "../harness/db.js";
import { snapshot } from "./snapshot.js";

const db = useTestDatabase();
const events = defineEvents({ "names.ok": z.object({ n: z.number() }) });
let generation: number;

beforeAll(async () => {
  generation = (await allocateGeneration(db.current.pool, { version: "names" })).generation;
  const publisher = await createPublisher({ events, db: db.current.pool, generation });
  const c = await db.current.pool.connect();
  try {
    await c.query("BEGIN");
    await publisher.publish(c, "names.ok", { n: 1 }, { idempotencyKey: "stored-1" });
    await c.query("COMMIT");
  } finally {
    c.release();
  }
});

const hostile = [
  `order"placed`,
  "order'placed",
  "order placed",
  "x'); DROP TABLE cutover.outbox; --",
  'x"; DROP SCHEMA cutover CASCADE; --',
  "",
  "ünïcödé",
];

function expectCode(fn: () => unknown, code: string): Error {
  try {
    fn();
  } catch (err) {
    expect(isCutoverError(err, code as never), String(err)).toBe(true);
    return err as Error;
  }
  throw new Error(`expected ${code}`);
}

describe("hostile names: a typed error naming the problem, stored data untouched", () => {
  it("topic names with quotes, spaces or SQL are refused by defineEvents (TOPIC_INVALID)", () => {
    for (const t of hostile) {
      const err = expectCode(() => defineEvents({ [t]: z.object({}) }), "TOPIC_INVALID");
      expect(err.message).toMatch(/topic names must match/);
    }
  });

  it("publishing to such a topic is TOPIC_UNKNOWN before any SQL runs", async () => {
    const pool = db.current.pool;
    const before = await snapshot(pool);
    const publisher = await createPublisher({ events, db: pool, generation });
    const c = await pool.connect();
    try {
      await c.query("BEGIN");
      for (const t of hostile) {
        await expect(publisher.publish(c, t as "names.ok", { n: 1 })).rejects.toMatchObject({
          code: "TOPIC_UNKNOWN",
        });
      }
      await c.query("COMMIT");
    } finally {
      c.release();
    }
    expect(await snapshot(pool)).toEqual(before);
  });

  it("handler names with quotes, spaces or SQL are refused (HANDLER_INVALID), by defineHandler and by createConsumer", () => {
    for (const name of hostile) {
      const handle = async () => {};
      expectCode(() => defineHandler(events, { name, topics: ["names.ok"], handle }), "HANDLER_INVALID");
      expectCode(
        () =>
          createConsumer({
            databaseUrl: db.current.url,
            generation,
            handlers: [{ name, topics: ["names.ok"], handle }],
          }),
        "HANDLER_INVALID",
      );
    }
    // A handler subscribing to a hostile topic is refused too.
    expectCode(
      () =>
        defineHandler(events, {
          name: "scope.ok",
          topics: ["x'; DROP TABLE t; --" as "names.ok"],
          handle: async () => {},
        }),
      "HANDLER_INVALID",
    );
  });

  it("a schema name carrying SQL is refused everywhere it is accepted (IDENTIFIER_INVALID), and nothing is created or dropped", async () => {
    const pool = db.current.pool;
    const before = await snapshot(pool);
    const schemas = [
      'cutover"; DROP SCHEMA cutover CASCADE; --',
      "cutover; DROP TABLE cutover.outbox",
      "Cut Over",
      "x".repeat(64),
    ];
    for (const schema of schemas) {
      await expect(createPublisher({ events, db: pool, generation, schema })).rejects.toMatchObject({
        code: "IDENTIFIER_INVALID",
      });
      expectCode(
        () =>
          createConsumer({
            databaseUrl: db.current.url,
            generation,
            schema,
            handlers: [{ name: "s.h", topics: ["names.ok"], handle: async () => {} }],
          }),
        "IDENTIFIER_INVALID",
      );
      await expect(migrate({ databaseUrl: db.current.url, schema })).rejects.toMatchObject({
        code: "IDENTIFIER_INVALID",
      });
      await expect(allocateGeneration(pool, { version: "v", schema })).rejects.toMatchObject({
        code: "IDENTIFIER_INVALID",
      });
      await expect(outboxStatus(pool, { schema })).rejects.toMatchObject({ code: "IDENTIFIER_INVALID" });
    }
    const { rows } = await pool.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema' ORDER BY 1",
    );
    expect(rows.map((r) => r.nspname)).toEqual(["cutover", "public"]);
    expect(await snapshot(pool)).toEqual(before);
  });

  it("SQL in values (idempotency key, ordering key, headers, payload) is data: stored verbatim, nothing else happens", async () => {
    const pool = db.current.pool;
    const publisher = await createPublisher({ events, db: pool, generation });
    const sql = "'); DROP TABLE cutover.outbox; --";
    const c = await pool.connect();
    try {
      await c.query("BEGIN");
      await publisher.publish(
        c,
        "names.ok",
        { n: 2 },
        { idempotencyKey: sql, orderingKey: sql, headers: { tenant_id: sql } },
      );
      await c.query("COMMIT");
    } finally {
      c.release();
    }
    const { rows } = await pool.query(
      "SELECT idempotency_key, ordering_key, headers->>'tenant_id' AS tenant FROM cutover.outbox WHERE idempotency_key = $1",
      [sql],
    );
    expect(rows).toEqual([{ idempotency_key: sql, ordering_key: sql, tenant: sql }]);
  });
});
