import { randomBytes } from "node:crypto";
import http from "node:http";
import type net from "node:net";
import amqp from "amqplib";
import { Redis } from "ioredis";
import { AckPolicy, connect, DeliverPolicy, type NatsConnection } from "nats";
import { verifyWebhookSignature } from "../../src/relays/verify.js";
import { AMQP_URL, NATS_URL, REDIS_URL } from "./brokers.js";

/** One message as it reached a receiver, before the receiver's dedupe. */
export interface Received {
  idempotencyKey: string;
  orderingKey: string | null;
  generation: number;
  n: number;
}

export const runId = () => randomBytes(4).toString("hex");

/**
 * What a receiver sees after deduplicating on the idempotency key: every
 * expected key exactly once, duplicates counted, and per (generation,
 * ordering key) the sequence of first arrivals (ordering is per generation:
 * each generation's consumer orders its own events).
 */
export function dedupe(received: readonly Received[]) {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const byKey = new Map<string, number[]>();
  for (const r of received) {
    if (seen.has(r.idempotencyKey)) {
      duplicates.push(r.idempotencyKey);
      continue;
    }
    seen.add(r.idempotencyKey);
    if (r.orderingKey !== null) {
      const k = `${r.generation}:${r.orderingKey}`;
      byKey.set(k, [...(byKey.get(k) ?? []), r.n]);
    }
  }
  return { unique: seen, duplicates, byKey };
}

/** True when each ordering key's first arrivals are in increasing `n` (publish order). */
export function inKeyOrder(byKey: Map<string, number[]>): boolean {
  for (const ns of byKey.values()) for (let i = 1; i < ns.length; i++) if (ns[i]! <= ns[i - 1]!) return false;
  return true;
}

function fromEnvelope(env: {
  idempotencyKey: string;
  orderingKey: string | null;
  generation: number;
  payload: { n: number };
}): Received {
  return {
    idempotencyKey: env.idempotencyKey,
    orderingKey: env.orderingKey,
    generation: env.generation,
    n: env.payload.n,
  };
}

/** A webhook receiver on port 0 that verifies signatures and records every accepted POST. */
export async function startWebhookReceiver(secret: string) {
  const received: Received[] = [];
  let rejectedSignatures = 0;
  /** Status to answer instead of 200 (e.g. 503 for an outage), or null. */
  let failWith: number | null = null;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (failWith !== null) {
        res.writeHead(failWith).end("unavailable");
        return;
      }
      const body = Buffer.concat(chunks);
      const ok = verifyWebhookSignature({
        secret,
        body,
        timestamp: req.headers["x-cutover-timestamp"] as string | undefined,
        signature: req.headers["x-cutover-signature"] as string | undefined,
      });
      if (!ok) {
        rejectedSignatures++;
        res.writeHead(401).end("bad signature");
        return;
      }
      received.push(fromEnvelope(JSON.parse(body.toString("utf8"))));
      res.writeHead(204).end();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/outbox`,
    received,
    get rejectedSignatures() {
      return rejectedSignatures;
    },
    failWith(status: number | null) {
      failWith = status;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export { AMQP_URL, NATS_URL, REDIS_URL };

/** A JetStream stream for one test run, read back in stream order. */
export async function natsStream(name: string, subjects: string[]) {
  const nc: NatsConnection = await connect({ servers: NATS_URL });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name, subjects, duplicate_window: 120_000_000_000 });
  return {
    nc,
    async count(): Promise<number> {
      return (await jsm.streams.info(name)).state.messages;
    },
    /** Every message in the stream, in stream order. */
    async readAll(): Promise<Received[]> {
      const total = (await jsm.streams.info(name)).state.messages;
      const js = nc.jetstream();
      const cname = `reader_${runId()}`;
      await jsm.consumers.add(name, {
        durable_name: cname,
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.All,
      });
      const consumer = await js.consumers.get(name, cname);
      const out: Received[] = [];
      while (out.length < total) {
        const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
        for await (const m of batch) out.push(fromEnvelope(m.json()));
      }
      await jsm.consumers.delete(name, cname);
      return out;
    },
    async close() {
      await jsm.streams.delete(name).catch(() => {});
      await nc.close();
    },
  };
}

/** Reads Redis streams back and deletes every key of the run. */
export async function redisReader(prefix: string) {
  const redis = new Redis(REDIS_URL);
  return {
    redis,
    async readAll(stream: string): Promise<Received[]> {
      const entries = await redis.xrange(stream, "-", "+");
      return entries.map(([, fields]) => {
        const f = new Map<string, string>();
        for (let i = 0; i < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
        return {
          idempotencyKey: f.get("idempotencyKey")!,
          orderingKey: f.get("orderingKey") || null,
          generation: Number(f.get("generation")),
          n: (JSON.parse(f.get("payload")!) as { n: number }).n,
        };
      });
    },
    async close() {
      for (;;) {
        let cursor = "0";
        const keys: string[] = [];
        do {
          const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== "0");
        if (keys.length === 0) break;
        await redis.del(...keys);
      }
      await redis.quit();
    },
  };
}

/** A topic exchange with one queue bound to `#`, consumed into memory. */
export async function rabbitQueue(exchange: string, queue: string) {
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, "topic", { durable: true, autoDelete: false });
  await ch.assertQueue(queue, { durable: false, exclusive: false, autoDelete: false });
  await ch.bindQueue(queue, exchange, "#");
  const received: Array<Received & { messageId: string; persistent: boolean }> = [];
  await ch.consume(
    queue,
    (msg) => {
      if (msg === null) return;
      received.push({
        ...fromEnvelope(JSON.parse(msg.content.toString("utf8"))),
        messageId: msg.properties.messageId as string,
        persistent: msg.properties.deliveryMode === 2,
      });
    },
    { noAck: true },
  );
  return {
    received,
    async close() {
      await ch.deleteQueue(queue).catch(() => {});
      await ch.deleteExchange(exchange).catch(() => {});
      await conn.close();
    },
  };
}
