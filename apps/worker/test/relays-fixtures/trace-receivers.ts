// One small helper per transport that reads back the W3C trace context a
// relay attached to its message, where that transport carries it: an HTTP
// header, a NATS message header, a Redis stream field, an AMQP message
// header. Each takes its broker URL as a parameter (default: the local
// broker of receivers.ts), so a test can pass one read from the environment.
import http from "node:http";
import type net from "node:net";
import amqp from "amqplib";
import { Redis } from "ioredis";
import { connect } from "nats";
import { AMQP_URL, NATS_URL, REDIS_URL } from "./receivers.js";

/** A webhook receiver that answers 204 and records each request's traceparent. */
export async function webhookTraceReceiver() {
  const traceparents: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      traceparents.push(req.headers.traceparent as string | undefined);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/traced`,
    traceparents,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A JetStream stream `name` on `subjects`; `traceparentOf(subject)` reads the last message's header. */
export async function natsTraceReader(name: string, subjects: string[], url = NATS_URL) {
  const nc = await connect({ servers: url });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name, subjects });
  return {
    async traceparentOf(subject: string): Promise<string | undefined> {
      const m = await jsm.streams.getMessage(name, { last_by_subj: subject });
      return m.header?.get("traceparent") || undefined;
    },
    async close() {
      await jsm.streams.delete(name).catch(() => {});
      await nc.close();
    },
  };
}

/** Reads the `traceparent` field of a Redis stream's entries; deletes `keys` on close. */
export async function redisTraceReader(url = REDIS_URL) {
  const redis = new Redis(url);
  const used = new Set<string>();
  return {
    async traceparents(stream: string): Promise<Array<string | undefined>> {
      used.add(stream);
      const entries = await redis.xrange(stream, "-", "+");
      return entries.map(([, fields]) => {
        const i = fields.indexOf("traceparent");
        return i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined;
      });
    },
    async close(extraKeys: string[] = []) {
      const keys = [...used, ...extraKeys];
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
}

/** A topic exchange with one queue bound to `#`; `traceparents()` gets every queued message's header. */
export async function amqpTraceReader(exchange: string, queue: string, url = AMQP_URL) {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.assertExchange(exchange, "topic", { durable: false, autoDelete: false });
  await ch.assertQueue(queue, { durable: false, autoDelete: false });
  await ch.bindQueue(queue, exchange, "#");
  return {
    async traceparents(): Promise<Array<string | undefined>> {
      const out: Array<string | undefined> = [];
      for (;;) {
        const msg = await ch.get(queue, { noAck: true });
        if (msg === false) return out;
        const tp = msg.properties.headers?.traceparent;
        out.push(typeof tp === "string" ? tp : undefined);
      }
    },
    async close() {
      await ch.deleteQueue(queue).catch(() => {});
      await ch.deleteExchange(exchange).catch(() => {});
      await conn.close();
    },
  };
}
