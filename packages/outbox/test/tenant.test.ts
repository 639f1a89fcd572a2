import {
  createPublisher,
  type DeadEvent,
  defineEvents,
  isCutoverError,
  listDead,
  type OutboxEvent,
  PermanentError,
  retryDead,
} from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { useTestDatabase } from "../../../test/harness/db.js";
import { newGeneration, useConsumers } from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

const events = defineEvents({ "order.placed": z.object({ n: z.number().int() }) });

async function publishInTx(
  gen: number,
  items: Array<{ n: number; tenant?: string }>,
): Promise<Array<string | undefined>> {
  const pub = await createPublisher({ events, db: db.current.pool, generation: gen });
  const client = await db.current.pool.connect();
  try {
    await client.query("BEGIN");
    const res = await pub.publishBatch(
      client,
      items.map(({ n, tenant }) => ({
        topic: "order.placed" as const,
        payload: { n },
        ...(tenant === undefined ? {} : { tenant }),
      })),
    );
    await client.query("COMMIT");
    return res.map((r) => r.id);
  } finally {
    client.release();
  }
}

describe("tenant", () => {
  it("is stored in its own column, null when not given", async () => {
    const gen = await newGeneration(db.current.pool);
    const ids = await publishInTx(gen, [{ n: 1, tenant: "acme" }, { n: 2 }]);
    const { rows } = await db.current.pool.query<{ id: string; tenant: string | null }>(
      "SELECT o.id::text AS id, o.tenant FROM cutover.outbox o WHERE o.id = ANY($1::bigint[]) ORDER BY o.id",
      [ids],
    );
    expect(rows.map((r) => r.tenant)).toEqual(["acme", null]);
  });

  it("is validated before anything is written: a typed error naming the field", async () => {
    const gen = await newGeneration(db.current.pool);
    const pub = await createPublisher({ events, db: db.current.pool, generation: gen });
    const client = await db.current.pool.connect();
    try {
      await client.query("BEGIN");
      for (const bad of ["", "x".repeat(201), 42, "a\u0000b"]) {
        const err = await pub.publish(client, "order.placed", { n: 1 }, { tenant: bad as string }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isCutoverError(err) && err.code).toBe("PUBLISH_OPTIONS_INVALID");
        expect((err as { details?: { option?: string } }).details?.option).toBe("tenant");
        expect(String((err as Error).message)).toMatch(/^tenant /);
      }
      // The transaction is still usable: nothing was sent.
      await pub.publish(client, "order.placed", { n: 2 }, { tenant: "t".repeat(200) });
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const { rows } = await db.current.pool.query(
      "SELECT count(*)::int AS n FROM cutover.outbox WHERE generation = $1",
      [gen],
    );
    expect(rows[0].n).toBe(1);
  });

  it("on a schema before the tenant migration, publishing without a tenant works; with one it is SCHEMA_BEHIND", async () => {
    const gen = await newGeneration(db.current.pool);
    const pub = await createPublisher({ events, db: db.current.pool, generation: gen });
    const client = await db.current.pool.connect();
    try {
      await client.query("BEGIN");
      // The schema as the previous release left it (rolled back below).
      await client.query("ALTER TABLE cutover.outbox DROP COLUMN tenant");
      const plain = await pub.publish(client, "order.placed", { n: 1 });
      expect(plain.duplicate).toBe(false);
      const batch = await pub.publishBatch(client, [{ topic: "order.placed", payload: { n: 2 } }]);
      expect(batch[0]!.duplicate).toBe(false);
      await client.query("SAVEPOINT before_tenant");
      const err = await pub.publish(client, "order.placed", { n: 3 }, { tenant: "acme" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: "SCHEMA_BEHIND", details: { option: "tenant", schema: "cutover" } });
      expect(String((err as Error).message)).toContain("1732000000006_outbox_tenant");
      await client.query("ROLLBACK");
    } finally {
      // Its prepared statements were planned against the altered table: do not reuse it.
      client.release(true);
    }
  });

  it("reaches the handler as event.tenant; dead letters are listed and retried by tenant", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool);
    await publishInTx(gen, [
      { n: 1, tenant: "acme" },
      { n: 2, tenant: "globex" },
      { n: 3, tenant: "acme" },
      { n: 4 },
    ]);
    const seen: Array<[number, string | null]> = [];
    const c = consumers.create({
      generation: gen,
      pollIntervalMs: 50,
      handlers: [
        {
          name: "test.fail-all",
          topics: ["order.placed"],
          async handle(event: OutboxEvent) {
            seen.push([(event.payload as { n: number }).n, event.tenant]);
            throw new PermanentError("no");
          },
        },
      ],
    });
    await c.drain({ timeoutMs: 30_000 });
    await c.stop({ timeoutMs: 5000 });
    expect(seen.sort((a, b) => a[0] - b[0])).toEqual([
      [1, "acme"],
      [2, "globex"],
      [3, "acme"],
      [4, null],
    ]);

    const n = (d: DeadEvent[]) => d.map((e) => (e.payload as { n: number }).n);
    expect(n(await listDead(pool, { generation: gen }))).toEqual([1, 2, 3, 4]);
    const acme = await listDead(pool, { generation: gen, tenant: "acme" });
    expect(n(acme)).toEqual([1, 3]);
    expect(acme.map((d) => d.tenant)).toEqual(["acme", "acme"]);
    expect(await listDead(pool, { generation: gen, tenant: "nobody" })).toEqual([]);

    expect(await retryDead(pool, { all: true, generation: gen, tenant: "acme" })).toEqual({ requeued: 2 });
    const { rows } = await pool.query<{ n: number; status: string }>(
      "SELECT (payload->>'n')::int AS n, status FROM cutover.outbox WHERE generation = $1 ORDER BY id",
      [gen],
    );
    expect(rows).toEqual([
      { n: 1, status: "pending" },
      { n: 2, status: "dead" },
      { n: 3, status: "pending" },
      { n: 4, status: "dead" },
    ]);

    for (const bad of ["", 7]) {
      await expect(listDead(pool, { tenant: bad as string })).rejects.toMatchObject({
        code: "CONFIG_INVALID",
        details: { option: "tenant" },
      });
      await expect(retryDead(pool, { all: true, tenant: bad as string })).rejects.toMatchObject({
        code: "CONFIG_INVALID",
        details: { option: "tenant" },
      });
    }
  });

  it("a dead list by tenant reads the partial tenant index, not every dead row", async () => {
    const pool = db.current.pool;
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      // Many dead rows of other tenants (and none), then fresh statistics.
      const gen = await newGeneration(pool);
      await client.query(
        `INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key, status, tenant)
         SELECT $1, 'order.placed', '{}', 'k' || i, 'dead', CASE WHEN i % 3 = 0 THEN NULL ELSE 't' || (i % 50) END
         FROM generate_series(1, 5000) i`,
        [gen],
      );
      await client.query("ANALYZE cutover.outbox");
      const { rows } = await client.query(
        `EXPLAIN SELECT id FROM cutover.outbox
         WHERE status = 'dead' AND ($1::int IS NULL OR generation = $1) AND ($3::text IS NULL OR tenant = $3)
         ORDER BY generation, id LIMIT $2`,
        [null, 100, "t7"],
      );
      expect(rows.map((r) => r["QUERY PLAN"]).join("\n")).toContain("outbox_dead_tenant");
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
  });
});
