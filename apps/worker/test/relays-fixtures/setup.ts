// The setup the relay tests (relays-consumer, relays-faults, relays-brokers) share:
// one of each receiver, relays built from a config, closing both after each
// test, and the delivery assertions every receiver is held to.
import { afterEach, expect } from "vitest";
import { createRelays, parseRelaysConfig, type Relay } from "../../src/relays/index.js";
import { memoryLogger } from "./events.js";
import {
  dedupe,
  inKeyOrder,
  natsStream,
  type Received,
  rabbitQueue,
  redisReader,
  startWebhookReceiver,
} from "./receivers.js";

export type Cleanups = Array<() => Promise<void>>;

/** A list to push a cleanup onto per resource opened; after each test they run, last first. */
export function useCleanups(): Cleanups {
  const cleanups: Cleanups = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}

/**
 * One of each receiver for test run `run`: a webhook receiver checking
 * `secret`, JetStream stream `cutover_test_<run>` (subjects `cutover-test-<run>.>`),
 * a Redis reader of `cutover-test:<run>:*` and RabbitMQ queue `cutover-test-<run>`
 * bound to the exchange of that name. Each is closed by `cleanups`.
 */
export async function startReceivers(run: string, secret: string, cleanups: Cleanups) {
  const hook = await startWebhookReceiver(secret);
  cleanups.push(() => hook.close());
  const stream = await natsStream(`cutover_test_${run}`, [`cutover-test-${run}.>`]);
  cleanups.push(() => stream.close());
  const redis = await redisReader(`cutover-test:${run}:`);
  cleanups.push(() => redis.close());
  const rabbit = await rabbitQueue(`cutover-test-${run}`, `cutover-test-${run}`);
  cleanups.push(() => rabbit.close());
  return { hook, stream, redis, rabbit };
}

/** The relays `entries` configure (validated as OUTBOX_RELAYS is), logging into memory; closed by `cleanups`. */
export function startRelays(entries: unknown, env: Record<string, string | undefined>, cleanups: Cleanups) {
  const config = parseRelaysConfig(entries, env);
  const logger = memoryLogger();
  const relays: Relay[] = createRelays(config, { logger });
  cleanups.push(async () => {
    await Promise.all(relays.map((r) => r.close()));
  });
  return { relays, logger };
}

/**
 * Asserts that receiver `name` got every event `<run>-0` .. `<run>-<total-1>`
 * (idempotency keys as publishRange() sets them), exactly once unless
 * `allowDuplicates`, first arrivals in publish order per ordering key.
 * Returns the dedupe for a test's own further checks.
 */
export function expectDelivered(
  name: string,
  received: readonly Received[],
  opts: { run: string; total: number; allowDuplicates: boolean },
) {
  const d = dedupe(received);
  expect(d.unique, name).toEqual(new Set(Array.from({ length: opts.total }, (_, n) => `${opts.run}-${n}`)));
  if (!opts.allowDuplicates) expect(d.duplicates, `${name} duplicates`).toEqual([]);
  expect(inKeyOrder(d.byKey), `${name} key order`).toBe(true);
  return d;
}
