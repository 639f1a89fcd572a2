// The broker URLs the run's global setup found (test/harness/brokers.ts): from
// NATS_URL / REDIS_URL / AMQP_URL, a testcontainers container, or "" when the
// broker is not available and the tests that need it are skipped.
import { inject } from "vitest";
import { type BrokerName, skipLine } from "../../../../test/harness/brokers.js";

const urls = inject("brokerUrls");

export const NATS_URL = urls.nats;
export const REDIS_URL = urls.redis;
export const AMQP_URL = urls.rabbitmq;

/** True when one of `names` is missing: pass to describe.skipIf. */
export function missing(...names: BrokerName[]): boolean {
  return names.some((n) => !urls[n]);
}

/**
 * A describe title that, when the suite is skipped, says which broker is
 * missing and how to provide it, so the skipped list in the summary explains itself.
 */
export function needs(title: string, ...names: BrokerName[]): string {
  const absent = names.filter((n) => !urls[n]);
  return absent.length === 0 ? title : `${title} — ${absent.map(skipLine).join(" ")}`;
}

/** host and port of a broker URL (for the fault tests' TCP proxies). */
export function hostPort(url: string): [string, number] {
  const u = new URL(url);
  return [u.hostname, Number(u.port)];
}
