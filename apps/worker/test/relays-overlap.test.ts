// The relays' maxInFlight through the real consumer and real brokers: sends
// overlap, each ordering key still arrives in publish order, a failed send
// holds back only its key, and every event arrives.
import { createConsumer, type HandlerDefinition } from "@cutover/outbox";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { parseRelaysConfig, RELAY_DEFAULTS } from "../src/relays/index.js";
import { missing, needs } from "./relays-fixtures/brokers.js";
import {
  newGeneration,
  publishRange,
  statusCounts as statusCountsOf,
  waitFor,
} from "./relays-fixtures/outbox.js";
import { AMQP_URL, NATS_URL, REDIS_URL, runId } from "./relays-fixtures/receivers.js";
import { expectDelivered, startReceivers, startRelays, useCleanups } from "./relays-fixtures/setup.js";

const db = useTestDatabase();
const SECRET = "whsec_overlap_test_secret";
const cleanups = useCleanups();

/** Events of `generation` by state (relays-fixtures/outbox.ts). */
const statusCounts = (generation: number) => statusCountsOf(db.current.pool, generation);

/** `handler` with the most of its calls seen in flight at once recorded, and `fail` consulted before each send. */
function gauged(handler: HandlerDefinition, fail: (n: number, attempt: number) => boolean = () => false) {
  const seen = { now: 0, max: 0 };
  const wrapped: HandlerDefinition = {
    ...handler,
    async handle(event, ctx) {
      seen.now++;
      seen.max = Math.max(seen.max, seen.now);
      try {
        // Random delays shuffle the order in which overlapped sends leave.
        await new Promise((r) => setTimeout(r, Math.random() * 4));
        if (fail((event.payload as { n: number }).n, event.attempt)) throw new Error("injected failure");
        await handler.handle(event, ctx);
      } finally {
        seen.now--;
      }
    },
  };
  return { handler: wrapped, seen };
}

/**
 * Every receiver got events 0 .. total-1 of `run`, each key in publish order;
 * JetStream and Redis (deduping on the way in) exactly once.
 */
async function expectAllDelivered(
  run: string,
  total: number,
  { hook, stream, redis, rabbit }: Awaited<ReturnType<typeof startReceivers>>,
) {
  const opts = { run, total };
  expectDelivered("webhook", hook.received, { ...opts, allowDuplicates: true });
  expectDelivered("jetstream", await stream.readAll(), { ...opts, allowDuplicates: false });
  expectDelivered("redis", await redis.readAll(`cutover-test:${run}:order.placed`), {
    ...opts,
    allowDuplicates: false,
  });
  await waitFor(() => rabbit.received.length >= total);
  expectDelivered("rabbitmq", rabbit.received, { ...opts, allowDuplicates: true });
}

function relayEntries(run: string, hookUrl: string, extra: Record<string, unknown> = {}) {
  return [
    {
      kind: "webhook",
      name: "relay.hook",
      topics: ["order.*"],
      url: hookUrl,
      secretEnv: "HOOK_SECRET",
      ...extra,
    },
    {
      kind: "nats",
      name: "relay.jetstream",
      topics: ["order.placed"],
      servers: NATS_URL,
      subjectPrefix: `cutover-test-${run}.`,
      ...extra,
    },
    {
      kind: "redis",
      name: "relay.redis",
      topics: ["order.placed"],
      url: REDIS_URL,
      stream: `cutover-test:${run}:{topic}`,
      dedupePrefix: `cutover-test:${run}:dedupe:`,
      ...extra,
    },
    {
      kind: "rabbitmq",
      name: "relay.rabbit",
      topics: ["order.placed"],
      url: AMQP_URL,
      exchange: `cutover-test-${run}`,
      assertExchange: { type: "topic" },
      ...extra,
    },
  ];
}

describe("relays: maxInFlight config", () => {
  it("defaults per kind, can be set, and is checked (1..1024) naming the field", () => {
    const entries = relayEntries("cfg", "http://127.0.0.1:1/hook");
    const parsed = parseRelaysConfig(entries, { HOOK_SECRET: SECRET });
    expect(parsed.map((c) => c.maxInFlight)).toEqual([
      RELAY_DEFAULTS.webhook.maxInFlight,
      RELAY_DEFAULTS.nats.maxInFlight,
      RELAY_DEFAULTS.redis.maxInFlight,
      RELAY_DEFAULTS.rabbitmq.maxInFlight,
    ]);
    expect(
      parseRelaysConfig(relayEntries("cfg", "http://127.0.0.1:1/hook", { maxInFlight: 3 }), {
        HOOK_SECRET: SECRET,
      }).map((c) => c.maxInFlight),
    ).toEqual([3, 3, 3, 3]);
    for (const bad of [0, 1025, 2.5]) {
      expect(() => parseRelaysConfig([{ ...entries[1], maxInFlight: bad }], {})).toThrow(
        /OUTBOX_RELAYS: \$\[0\]\.maxInFlight: /,
      );
    }
  });
});

describe.skipIf(missing("nats", "redis", "rabbitmq"))(
  needs("relays with maxInFlight through the real consumer", "nats", "redis", "rabbitmq"),
  () => {
    it("sends overlap; every event arrives, each key in publish order; a failed send holds back only its key", {
      timeout: 120_000,
    }, async () => {
      const run = runId();
      const total = 3000;
      const pool = db.current.pool;
      const receivers = await startReceivers(run, SECRET, cleanups);
      const { hook, stream } = receivers;
      const { relays, logger } = startRelays(relayEntries(run, hook.url), { HOOK_SECRET: SECRET }, cleanups);
      // key-3's event 3 + 40·5 fails its JetStream send once: its key waits for the retry.
      const failN = 3 + 40 * 5;
      const gauges = relays.map((r) =>
        gauged(r.handler, r.kind === "nats" ? (n, attempt) => n === failN && attempt === 1 : undefined),
      );
      const generation = await newGeneration(pool, `overlap-${run}`);
      const consumer = createConsumer({
        pool,
        generation,
        workerId: `relay-overlap-${run}`,
        handlers: gauges.map((g) => g.handler),
        concurrency: 4,
        batchSize: 100,
        pollIntervalMs: 100,
        backoff: { baseMs: 50, maxMs: 200 },
      });
      cleanups.push(() => consumer.stop({ timeoutMs: 5000 }));
      let failed = 0;
      consumer.on("failed", () => failed++);
      await consumer.start();
      // 40 keys interleaved round-robin; every fourth event has no key.
      const orderingKey = (n: number) => (n % 4 === 3 && n !== failN ? undefined : `key-${n % 40}`);
      await publishRange(pool, generation, { run, from: 0, count: total, orderingKey });

      await waitFor(async () => (await statusCounts(generation)).completed === total, 200);
      expect(await statusCounts(generation)).toEqual({ completed: total });
      expect(failed).toBe(1);

      for (const [i, g] of gauges.entries()) {
        expect(g.seen.max, relays[i]!.name).toBeGreaterThan(1);
        expect(g.seen.max, relays[i]!.name).toBeLessThanOrEqual(4 * RELAY_DEFAULTS.webhook.maxInFlight);
      }
      await expectAllDelivered(run, total, receivers);
      // The failed event's key: its successors reached JetStream after it.
      const js = (await stream.readAll())
        .filter((r) => r.orderingKey === `key-${failN % 40}`)
        .map((r) => r.n);
      expect(js.indexOf(failN)).toBeGreaterThanOrEqual(0);
      expect(js.slice(js.indexOf(failN) + 1).every((n) => n > failN)).toBe(true);
      for (const r of relays) expect(r.health(), r.name).toEqual({ ok: true, degraded: false });
      expect(logger.lines.filter((l) => l.level === "warn" || l.level === "error")).toEqual([]);
    });

    it("maxInFlight 1 sends one at a time", { timeout: 60_000 }, async () => {
      const run = runId();
      const total = 300;
      const pool = db.current.pool;
      const receivers = await startReceivers(run, SECRET, cleanups);
      const { hook } = receivers;
      const { relays } = startRelays(
        relayEntries(run, hook.url, { maxInFlight: 1 }),
        { HOOK_SECRET: SECRET },
        cleanups,
      );
      expect(relays.map((r) => r.handler.maxInFlight)).toEqual([1, 1, 1, 1]);
      const gauges = relays.map((r) => gauged(r.handler));
      const generation = await newGeneration(pool, `one-${run}`);
      // One chunk at a time, so the gauge sees one chunk's sends.
      const consumer = createConsumer({
        pool,
        generation,
        workerId: `relay-one-${run}`,
        handlers: gauges.map((g) => g.handler),
        concurrency: 1,
        batchSize: 100,
        pollIntervalMs: 100,
      });
      cleanups.push(() => consumer.stop({ timeoutMs: 5000 }));
      await consumer.start();
      await publishRange(pool, generation, { run, from: 0, count: total });
      await waitFor(async () => (await statusCounts(generation)).completed === total, 200);
      for (const g of gauges) expect(g.seen.max).toBe(1);
      await expectAllDelivered(run, total, receivers);
    });
  },
);
