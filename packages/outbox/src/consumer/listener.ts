import type pg from "pg";
import pgListen, { type Subscriber } from "pg-listen";

// pg-listen is CommonJS with `exports.default`: under NodeNext the default
// import is the module object.
const createSubscriber = ((pgListen as unknown as { default?: typeof pgListen }).default ??
  pgListen) as unknown as typeof import("pg-listen").default;

/** How often pg-listen checks the LISTEN connection with a query. */
export const LISTEN_CHECK_MS = 15_000;
/** The LISTEN connection's query_timeout: a check with no reply by then means the connection is dead. */
export const LISTEN_QUERY_TIMEOUT_MS = 5000;

export interface ListenerHooks {
  /** A notification arrived (a hint only: its payload is ignored). */
  onNotify(): void;
  /** Connected; `reconnected` after a loss, when a catch-up poll is due. */
  onConnected(reconnected: boolean): void;
  /** The connection was lost and is being reopened. */
  onReconnecting(attempt: number): void;
  onError(err: unknown): void;
}

/**
 * The dedicated LISTEN connection, through pg-listen, configured never to
 * give up: pg-listen's default stops reconnecting after 3 s (retryTimeout),
 * so retryTimeout is infinite and the retry interval is an exponential
 * backoff bounded by `maxBackoffMs`. Notifications sent while it reconnects
 * are lost; the consumer polls right after every reconnect and on an interval.
 *
 * stop() also waits out a reconnect attempt in progress (pg-listen's close()
 * does not stop one), closing the client it produces, so nothing is left open.
 */
export class Listener {
  private sub: Subscriber | undefined;
  private stopping = false;
  private reconnecting = false;
  private settled: (() => void) | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  connected = false;
  lastNotificationAt: Date | undefined;
  lastError: string | undefined;

  constructor(
    private readonly clientConfig: pg.ClientConfig,
    private readonly channel: string,
    private readonly hooks: ListenerHooks,
    private readonly backoff = { baseMs: 100, maxMs: 2000 },
  ) {}

  private delay(attempt: number): number {
    const cap = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(attempt, 20));
    return Math.round(cap / 2 + (Math.random() * cap) / 2);
  }

  async start(): Promise<void> {
    this.stopping = false;
    await this.open(false);
  }

  private async open(reconnected: boolean): Promise<void> {
    const sub = createSubscriber(this.clientConfig, {
      retryLimit: Number.POSITIVE_INFINITY,
      retryTimeout: Number.POSITIVE_INFINITY,
      retryInterval: (attempt: number) => {
        // Throwing here is the only way to end pg-listen's reconnect loop.
        if (this.stopping) throw new Error("listener stopped");
        return this.delay(attempt);
      },
      paranoidChecking: LISTEN_CHECK_MS,
      parse: (s: string) => s,
    });
    this.sub = sub;
    sub.events.on("notification", () => {
      this.lastNotificationAt = new Date();
      this.hooks.onNotify();
    });
    sub.events.on("reconnect", (attempt: number) => {
      this.reconnecting = true;
      if (this.connected || attempt === 1) {
        this.connected = false;
        if (!this.stopping) this.hooks.onReconnecting(attempt);
      }
    });
    sub.events.on("connected", () => {
      const wasReconnecting = this.reconnecting;
      this.reconnecting = false;
      this.failures = 0;
      this.settle();
      if (this.stopping) {
        // A reconnect finished after close(): close the client it produced.
        void sub.close().catch(() => {});
        return;
      }
      if (wasReconnecting) {
        this.connected = true;
        this.lastError = undefined;
        this.hooks.onConnected(true);
      }
    });
    sub.events.on("error", (err: Error) => {
      this.lastError = err.message;
      const wasReconnecting = this.reconnecting;
      this.reconnecting = false;
      this.settle();
      if (this.stopping) return;
      this.hooks.onError(err);
      // pg-listen gave up on this client (a failed re-LISTEN): start over.
      if (wasReconnecting || !this.connected) this.scheduleRestart();
    });
    try {
      await sub.connect();
      await sub.listenTo(this.channel);
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      await this.closeSub(sub);
      if (!reconnected) throw err;
      this.hooks.onError(err);
      this.scheduleRestart();
      return;
    }
    this.connected = true;
    this.lastError = undefined;
    if (reconnected) this.hooks.onConnected(true);
    else this.hooks.onConnected(false);
  }

  private scheduleRestart(): void {
    if (this.stopping || this.restartTimer) return;
    const old = this.sub;
    this.connected = false;
    this.failures++;
    this.hooks.onReconnecting(this.failures);
    this.restartTimer = setTimeout(async () => {
      this.restartTimer = undefined;
      if (old) await this.closeSub(old);
      if (!this.stopping) await this.open(true);
    }, this.delay(this.failures));
  }

  private settle(): void {
    const s = this.settled;
    this.settled = undefined;
    s?.();
  }

  private async closeSub(sub: Subscriber): Promise<void> {
    const wait = this.reconnecting
      ? new Promise<void>((resolve) => {
          this.settled = resolve;
        })
      : undefined;
    await sub.close().catch(() => {});
    // A reconnect attempt was under way: wait until it failed (retryInterval
    // threw) or connected (closed again by the "connected" handler). Bounded:
    // one backoff step plus one connect attempt.
    if (wait) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        wait,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.backoff.maxMs + 15_000);
        }),
      ]);
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const sub = this.sub;
    this.sub = undefined;
    this.connected = false;
    if (sub) await this.closeSub(sub);
  }
}
