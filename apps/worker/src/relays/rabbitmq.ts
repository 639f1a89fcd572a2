import { randomUUID } from "node:crypto";
import amqp from "amqplib";
import type { RabbitmqRelayConfig } from "./config.js";
import { eventEnvelope, fillTopic } from "./envelope.js";
import { RelayError } from "./errors.js";
import { RelayHealthState } from "./health.js";
import { Reconnector } from "./reconnector.js";
import { assembleRelay, type Relay, type RelayDeps, raceAbort, withTimeout } from "./relay.js";

interface Session {
  conn: amqp.ChannelModel;
  ch: amqp.ConfirmChannel;
  /** Publish ids the broker returned as unroutable (basic.return precedes the ack). */
  returned: Set<string>;
}

const PUBLISH_ID = "x-cutover-publish-id";

/**
 * Publishes each event's envelope on a confirm channel: persistent,
 * `message_id` = idempotency key, mandatory (unroutable = retry, not a silent
 * drop), and waits for the broker's confirm. At-least-once: consumers dedupe
 * on `message_id`.
 */
export function createRabbitmqRelay(config: RabbitmqRelayConfig, deps: RelayDeps): Relay {
  const password = URL.canParse(config.url) ? decodeURIComponent(new URL(config.url).password) : undefined;
  const health = new RelayHealthState(config.name, "rabbitmq", deps.logger, [password]);

  const reconnector: Reconnector<Session> = new Reconnector<Session>({
    relay: config.name,
    health,
    async connect() {
      const conn = await amqp.connect(config.url, {
        timeout: config.confirmTimeoutMs,
        clientProperties: { connection_name: `cutover ${config.name}` },
      });
      conn.on("error", (err: unknown) => health.down(err));
      try {
        const ch = await conn.createConfirmChannel();
        const session: Session = { conn, ch, returned: new Set() };
        const lost = (err: unknown) => reconnector.lost(session, err ?? new Error("connection closed"));
        conn.on("close", lost);
        ch.on("error", (err: unknown) => health.down(err));
        ch.on("close", () => lost(new Error("channel closed")));
        ch.on("return", (msg: amqp.Message) => {
          const id = msg.properties.headers?.[PUBLISH_ID];
          if (typeof id === "string") session.returned.add(id);
        });
        if (config.assertExchange !== undefined && config.exchange !== "") {
          await ch.assertExchange(config.exchange, config.assertExchange.type, {
            durable: config.assertExchange.durable,
          });
        }
        return session;
      } catch (err) {
        await conn.close().catch(() => {});
        throw err;
      }
    },
    async dispose(session) {
      await session.conn.close().catch(() => {});
    },
  });

  return assembleRelay(
    config,
    health,
    async (event, ctx) => {
      const session = await raceAbort(reconnector.get(), ctx.signal);
      const publishId = randomUUID();
      const routingKey = fillTopic(config.routingKey, event.topic);
      const body = Buffer.from(JSON.stringify(eventEnvelope(event)));
      const confirmed = new Promise<void>((resolve, reject) => {
        try {
          session.ch.publish(
            config.exchange,
            routingKey,
            body,
            {
              persistent: true,
              mandatory: config.mandatory,
              messageId: event.idempotencyKey,
              contentType: "application/json",
              type: event.topic,
              timestamp: Math.floor(event.createdAt.getTime() / 1000),
              headers: {
                ...event.headers,
                "x-cutover-generation": event.generation,
                "x-cutover-topic": event.topic,
                "x-cutover-event-id": event.id,
                [PUBLISH_ID]: publishId,
              },
            },
            (err) => (err ? reject(err) : resolve()),
          );
        } catch (err) {
          reject(err);
        }
      });
      try {
        await raceAbort(
          withTimeout(confirmed, config.confirmTimeoutMs, config.name, "publisher confirm"),
          ctx.signal,
        );
      } catch (err) {
        session.returned.delete(publishId);
        if (ctx.signal.aborted) throw err;
        if (err instanceof RelayError) {
          // A silent broker: start over on a fresh connection rather than trust this one.
          reconnector.lost(session, err);
          throw err;
        }
        const failure = new RelayError(
          "RELAY_UNAVAILABLE",
          config.name,
          `publish failed: ${health.describe(err)}`,
          {
            cause: err,
          },
        );
        health.down(failure);
        throw failure;
      }
      if (session.returned.delete(publishId)) {
        throw new RelayError(
          "RELAY_REJECTED",
          config.name,
          `unroutable: no queue bound to exchange "${config.exchange}" with routing key "${routingKey}"`,
        );
      }
      health.up();
    },
    () => reconnector.close(),
  );
}
