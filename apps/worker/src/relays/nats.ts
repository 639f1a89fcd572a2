import {
  connect,
  Events,
  type JetStreamClient,
  type NatsConnection,
  nanos,
  headers as natsHeaders,
  StorageType,
} from "nats";
import type { NatsRelayConfig } from "./config.js";
import { eventEnvelope } from "./envelope.js";
import { RelayError } from "./errors.js";
import { RelayHealthState } from "./health.js";
import { Reconnector } from "./reconnector.js";
import { assembleRelay, type Relay, type RelayDeps, raceAbort } from "./relay.js";

const HEADER_KEY = /^[A-Za-z0-9_-]{1,128}$/;
const encoder = new TextEncoder();

interface Session {
  nc: NatsConnection;
  js: JetStreamClient;
  /** False between a Disconnect and the following Reconnect status. */
  connected: boolean;
}

/**
 * Publishes each event's envelope to JetStream on subject `subjectPrefix +
 * topic` with `Nats-Msg-Id` = idempotency key and waits for the PubAck, so
 * the stream stores it once within its duplicate window (exactly-once into
 * JetStream inside that window; at-least-once beyond it).
 */
export function createNatsRelay(config: NatsRelayConfig, deps: RelayDeps): Relay {
  const health = new RelayHealthState(config.name, "nats", deps.logger, [config.password, config.token]);
  const ensure = config.ensureStream;

  const reconnector: Reconnector<Session> = new Reconnector<Session>({
    relay: config.name,
    health,
    async connect() {
      const nc = await connect({
        servers: config.servers,
        name: `cutover ${config.name}`,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: config.ackTimeoutMs,
        ...(config.user === undefined ? {} : { user: config.user }),
        ...(config.password === undefined ? {} : { pass: config.password }),
        ...(config.token === undefined ? {} : { token: config.token }),
      });
      try {
        if (ensure !== undefined) {
          const jsm = await nc.jetstreamManager({ timeout: config.ackTimeoutMs });
          const exists = await jsm.streams.info(ensure.name).then(
            () => true,
            (err: { code?: string }) => {
              if (err.code === "404") return false;
              throw err;
            },
          );
          if (!exists) {
            await jsm.streams.add({
              name: ensure.name,
              subjects: ensure.subjects ?? [`${config.subjectPrefix}>`],
              duplicate_window: nanos(ensure.duplicateWindowMs),
              storage: ensure.storage === "memory" ? StorageType.Memory : StorageType.File,
            });
          }
        }
      } catch (err) {
        await nc.close().catch(() => {});
        throw err;
      }
      const session: Session = {
        nc,
        js: nc.jetstream({ timeout: config.ackTimeoutMs }),
        connected: true,
      };
      // nats.js never ends this iterator, even after close(): the loop is left
      // pending (no timer or socket behind it), never awaited.
      void (async () => {
        for await (const s of nc.status()) {
          if (s.type === Events.Disconnect) {
            session.connected = false;
            health.down(new Error(`disconnected from ${String(s.data)}`));
          } else if (s.type === Events.Reconnect) {
            session.connected = true;
            health.up();
          } else if (s.type === Events.Error) {
            health.down(s.data);
          }
        }
      })().catch(() => {});
      // A closed connection (not a reconnecting one) is gone for good: open a new one on next use.
      void nc.closed().then((err) => reconnector.lost(session, err ?? new Error("connection closed")));
      return session;
    },
    async dispose(session) {
      await session.nc.close().catch(() => {});
    },
  });

  return assembleRelay(
    config,
    health,
    async (event, ctx) => {
      const session = await raceAbort(reconnector.get(), ctx.signal);
      if (!session.connected) {
        throw new RelayError("RELAY_UNAVAILABLE", config.name, "disconnected from NATS, reconnecting");
      }
      const subject = `${config.subjectPrefix}${event.topic}`;
      const h = natsHeaders();
      for (const [k, v] of Object.entries(event.headers)) if (HEADER_KEY.test(k)) h.set(k, v);
      h.set("X-Cutover-Generation", String(event.generation));
      h.set("X-Cutover-Topic", event.topic);
      h.set("X-Cutover-Event-Id", event.id);
      const data = encoder.encode(JSON.stringify(eventEnvelope(event)));
      try {
        await raceAbort(
          session.js.publish(subject, data, {
            msgID: event.idempotencyKey,
            headers: h,
            timeout: config.ackTimeoutMs,
          }),
          ctx.signal,
        );
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        const code = (err as { code?: string }).code;
        const failure =
          code === "503"
            ? new RelayError(
                "RELAY_REJECTED",
                config.name,
                `no JetStream stream captures subject "${subject}" (create it, or set ensureStream)`,
                { cause: err },
              )
            : code === "TIMEOUT"
              ? new RelayError("RELAY_TIMEOUT", config.name, `no PubAck within ${config.ackTimeoutMs} ms`, {
                  cause: err,
                })
              : new RelayError("RELAY_UNAVAILABLE", config.name, `publish failed: ${health.describe(err)}`, {
                  cause: err,
                });
        health.down(failure);
        throw failure;
      }
      health.up();
    },
    () => reconnector.close(),
  );
}
