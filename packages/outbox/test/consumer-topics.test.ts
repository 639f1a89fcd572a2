import {
  type Consumer,
  type ConsumerEvents,
  createPublisher,
  defineEvents,
  defineHandler,
  type HandlerDefinition,
  isCutoverError,
} from "@cutover/outbox";
import { topicMatches } from "@cutover/outbox/internal";
import type pg from "pg";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { useTestDatabase } from "../../../test/harness/db.js";
import { consumerSql } from "../src/consumer/sql.js";
import { likeEscape, likePatternFor } from "../src/events.js";
import { validateHandlers } from "../src/handler.js";
import { eventState } from "./support/completion.js";
import { countWhere, newGeneration, publishInBatches, useConsumers } from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

const item = z.object({ n: z.number().int() });
const catalog = defineEvents({
  "order.placed": item,
  "order.line.added": item,
  order: item,
  "orders.placed": item,
  "billing.invoice": item,
  "billing.invoice.v2": item,
  "billing.refund": item,
  "ship_x.sent": item,
  "shipAx.sent": item,
  "ship_y.sent": item,
});
type Topic = (typeof catalog.topics)[number];
const ALL: Topic[] = [...catalog.topics];

/** Records (handler, topic) for each run, in the handler's transaction. */
function recording(name: string, topics: string[], seen: Array<[string, string]>): HandlerDefinition {
  return {
    name,
    topics,
    async handle(event) {
      seen.push([name, event.topic]);
    },
  };
}

/**
 * Publishes one event of every catalog topic (one transaction) in a new
 * generation, then drains it with a consumer whose handlers are `recording`s
 * of `subscriptions` (handler name -> topics); `watch` sees the consumer
 * before it starts.
 */
async function drainAll(subscriptions: Record<string, string[]>, watch?: (c: Consumer) => void) {
  const pool = db.current.pool;
  const gen = await newGeneration(pool);
  const pub = await createPublisher({ events: catalog, db: pool, generation: gen });
  await publishInBatches(pool, pub, { count: ALL.length, batch: ALL.length }, (n) => ({
    topic: ALL[n]!,
    payload: { n },
  }));
  const seen: Array<[string, string]> = [];
  const c = consumers.create({
    generation: gen,
    handlers: Object.entries(subscriptions).map(([name, topics]) => recording(name, topics, seen)),
    pollIntervalMs: 50,
  });
  watch?.(c);
  const result = await c.drain({ timeoutMs: 30_000 });
  return { pool, gen, seen, result };
}

/**
 * Per topic: the row still in the outbox, or, for an event the consumer
 * reported handled, "completed" when its row is gone and event_handled rows
 * name it (attempt from the report); with the count of those rows.
 */
async function rowsByTopic(pool: pg.Pool, generation: number, handled: Array<ConsumerEvents["handled"]>) {
  const { rows } = await pool.query<{ topic: string; status: string; attempts: number; handled: number }>(
    `SELECT o.topic, o.status, o.attempts,
       (SELECT count(*)::int FROM cutover.event_handled h WHERE h.event_id = o.id) AS handled
     FROM cutover.outbox o WHERE o.generation = $1 ORDER BY o.topic`,
    [generation],
  );
  const out: Record<string, { status: string; attempts: number; handled: number }> = Object.fromEntries(
    rows.map((r) => [r.topic, { status: r.status, attempts: r.attempts, handled: r.handled }]),
  );
  for (const h of handled) {
    out[h.topic] = {
      status: await eventState(pool, h.id),
      attempts: h.attempt,
      handled: await countWhere(pool, "SELECT 1 FROM cutover.event_handled WHERE event_id = $1", [h.id]),
    };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

describe("consumer: topic patterns in handler subscriptions", () => {
  it("claims only topics matched by an exact name or a pattern; others stay pending, unclaimed, with no event_handled rows", async () => {
    const handled: Array<ConsumerEvents["handled"]> = [];
    const { pool, gen, seen, result } = await drainAll(
      {
        "shop.orders": ["order.*"],
        "shop.invoices": ["billing.invoice"],
        // "_" in a prefix is a literal underscore, not LIKE's any-character.
        "shop.ship": ["ship_x.*"],
      },
      (c) => c.on("handled", (e) => handled.push(e)),
    );
    expect(result.remaining).toBe(0);
    expect(handled).toHaveLength(4);

    expect(seen.sort()).toEqual([
      ["shop.invoices", "billing.invoice"],
      ["shop.orders", "order.line.added"],
      ["shop.orders", "order.placed"],
      ["shop.ship", "ship_x.sent"],
    ]);
    const pending = { status: "pending", attempts: 0, handled: 0 };
    const done = { status: "completed", attempts: 1, handled: 1 };
    expect(await rowsByTopic(pool, gen, handled)).toEqual({
      "billing.invoice": done,
      "billing.invoice.v2": pending,
      "billing.refund": pending,
      order: pending,
      "order.line.added": done,
      "order.placed": done,
      "orders.placed": pending,
      "ship_x.sent": done,
      "ship_y.sent": pending,
      "shipAx.sent": pending,
    });
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM cutover.outbox WHERE generation = $1 AND status = 'pending' AND (claimed_by IS NOT NULL OR lease_expires_at IS NOT NULL)",
      [gen],
    );
    expect(rows[0]!.n).toBe(0);
  });

  it("sends an event to exactly the handlers whose subscriptions match it", async () => {
    const { pool, gen, seen, result } = await drainAll({
      "audit.billing": ["billing.*"],
      "audit.refunds": ["billing.refund"],
      "audit.everything": ["*"],
    });
    expect(result.remaining).toBe(0);
    const expected: Array<[string, string]> = [];
    for (const t of ALL) {
      expected.push(["audit.everything", t]);
      if (t.startsWith("billing.")) expected.push(["audit.billing", t]);
      if (t === "billing.refund") expected.push(["audit.refunds", t]);
    }
    expect(seen.sort()).toEqual(expected.sort());
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM cutover.event_handled WHERE generation = $1",
      [gen],
    );
    expect(rows[0]!.n).toBe(expected.length);
  });

  it("the claim with exact and pattern filters still walks the outbox_due index", async () => {
    const pool = db.current.pool;
    const gen = await newGeneration(pool);
    await pool.query(
      `INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key)
       SELECT $1, (ARRAY['order.placed', 'billing.invoice', 'price.changed', 'ship_x.sent'])[1 + i % 4], '{}'::jsonb, 'k' || i
       FROM generate_series(1, 20000) i`,
      [gen],
    );
    await pool.query("ANALYZE cutover.outbox");
    const sql = consumerSql("cutover", { exact: ["billing.invoice"], likes: [likePatternFor("order.*")] });
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql.claim}`, [
        gen,
        100,
        "explain-worker",
        30_000,
        [],
        [],
        ["billing.invoice"],
        [likePatternFor("order.*")],
      ]);
      const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
      expect(plan).toContain("outbox_due");
      expect(plan).toMatch(/topic ~~ ANY/);
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });
});

describe("topic patterns: validation, matching, typing", () => {
  const handle = async () => {};

  it("rejects a bad pattern at registration with HANDLER_INVALID naming the handler and the pattern", () => {
    for (const bad of [
      "order*",
      "*.placed",
      "order.*.x",
      "order.**",
      "ord%.*",
      ".*",
      "order-*",
      "",
      "order placed",
    ]) {
      let err: unknown;
      try {
        validateHandlers([{ name: "shop.orders", topics: [bad], handle }]);
      } catch (e) {
        err = e;
      }
      expect(isCutoverError(err) && err.code, bad).toBe("HANDLER_INVALID");
      expect((err as Error).message, bad).toContain('handler "shop.orders"');
      expect((err as Error).message, bad).toContain(JSON.stringify(bad));
    }
    for (const good of ["*", "order.*", "billing:*", "svc/*", "order.line.*", "ship_x.*", "order.placed"]) {
      expect(validateHandlers([{ name: "shop.orders", topics: [good], handle }])).toHaveLength(1);
    }
  });

  it("validateHandlers with a catalog accepts patterns, still rejects undeclared exact topics", () => {
    expect(validateHandlers([{ name: "shop.orders", topics: ["nothing.*"], handle }], catalog)).toHaveLength(
      1,
    );
    expect(() =>
      validateHandlers([{ name: "shop.orders", topics: ["nothing.here"], handle }], catalog),
    ).toThrow(/does not declare/);
  });

  it("matches a pattern's prefix literally, and escapes LIKE's special characters", () => {
    expect(topicMatches("order.*", "order.line.added")).toBe(true);
    expect(topicMatches("order.*", "order")).toBe(false);
    expect(topicMatches("order.*", "orders.placed")).toBe(false);
    expect(topicMatches("ship_x.*", "shipAx.sent")).toBe(false);
    expect(topicMatches("*", "anything")).toBe(true);
    expect(likePatternFor("ship_x.*")).toBe("ship\\_x.%");
    expect(likePatternFor("*")).toBe("%");
    expect(likePatternFor("billing.invoice")).toBe("billing.invoice");
    expect(likeEscape("a%b_c\\d")).toBe("a\\%b\\_c\\\\d");
  });

  it("LIKE with the escaped prefix matches %, _ and \\ literally in Postgres", async () => {
    const { rows } = await db.current.pool.query<{ t: string }>(
      "SELECT t FROM unnest($1::text[]) t WHERE t LIKE ANY($2::text[]) ORDER BY t",
      [
        ["a%b.x", "aZb.x", "a_b.x", "aQb.x", "a\\b.x", "ab.x"],
        [`${likeEscape("a%b.")}%`, `${likeEscape("a_b.")}%`, `${likeEscape("a\\b.")}%`],
      ],
    );
    expect(rows.map((r) => r.t)).toEqual(["a%b.x", "a\\b.x", "a_b.x"]);
  });

  it("defineHandler types a pattern's payload as its matching topics' payloads and rejects a pattern matching nothing", () => {
    const typed = z.object({ orderId: z.string() });
    const other = z.object({ cents: z.number() });
    const ev = defineEvents({ "order.placed": typed, "order.shipped": typed, "price.changed": other });
    const h = defineHandler(ev, {
      name: "shop.orders",
      topics: ["order.*"],
      async handle(event) {
        expectTypeOf(event.payload).toEqualTypeOf<{ orderId: string }>();
      },
    });
    expect(h.topics).toEqual(["order.*"]);
    defineHandler(ev, {
      name: "shop.mixed",
      topics: ["order.*", "price.changed"],
      async handle(event) {
        expectTypeOf(event.payload).toEqualTypeOf<{ orderId: string } | { cents: number }>();
      },
    });
    expect(() => defineHandler(ev, { name: "shop.none", topics: ["invoice.*"], handle })).toThrow(
      /shop\.none.*"invoice\.\*".*matches no declared topic/,
    );
    expect(() => defineHandler(ev, { name: "shop.bad", topics: ["order*" as "order.*"], handle })).toThrow(
      /handler "shop\.bad": topic "order\*"/,
    );
  });
});
