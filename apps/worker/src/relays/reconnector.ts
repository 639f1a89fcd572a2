import { RELAY_DEFAULTS } from "./config.js";
import { RelayError } from "./errors.js";
import type { RelayHealthState } from "./health.js";

export interface ReconnectorOptions<T> {
  relay: string;
  health: RelayHealthState;
  connect(): Promise<T>;
  /** Closes a connection; must not throw. */
  dispose(conn: T): Promise<void>;
  initialMs?: number;
  maxMs?: number;
}

/**
 * A lazily (re)opened connection. `get()` connects on first use; after a
 * failure it refuses (RELAY_UNAVAILABLE) until the backoff has passed, so the
 * failing event goes back to the consumer for a retry instead of waiting here.
 */
export class Reconnector<T> {
  private current: T | undefined;
  private connecting: Promise<T> | undefined;
  private failures = 0;
  private nextAttemptAt = 0;
  private closed = false;
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(private readonly opts: ReconnectorOptions<T>) {
    this.initialMs = opts.initialMs ?? RELAY_DEFAULTS.reconnect.initialMs;
    this.maxMs = opts.maxMs ?? RELAY_DEFAULTS.reconnect.maxMs;
  }

  get connected(): T | undefined {
    return this.current;
  }

  async get(): Promise<T> {
    if (this.closed) throw new RelayError("RELAY_CLOSED", this.opts.relay, "closed");
    if (this.current !== undefined) return this.current;
    if (this.connecting !== undefined) return this.connecting;
    const wait = Math.ceil(this.nextAttemptAt - Date.now());
    if (wait > 0) {
      throw new RelayError(
        "RELAY_UNAVAILABLE",
        this.opts.relay,
        `disconnected, next reconnect in ${wait} ms (${this.opts.health.snapshot().lastError ?? "no error"})`,
      );
    }
    const attempt = this.opts.connect().then(
      async (conn) => {
        if (this.closed) {
          await this.opts.dispose(conn);
          throw new RelayError("RELAY_CLOSED", this.opts.relay, "closed while connecting");
        }
        this.current = conn;
        this.failures = 0;
        this.opts.health.up();
        return conn;
      },
      (err: unknown) => {
        this.failures++;
        const backoff = Math.min(this.maxMs, this.initialMs * 2 ** (this.failures - 1));
        this.nextAttemptAt = Date.now() + backoff * (0.5 + Math.random() / 2);
        this.opts.health.down(err);
        throw new RelayError(
          "RELAY_UNAVAILABLE",
          this.opts.relay,
          `connect failed: ${this.opts.health.describe(err)}`,
          { cause: err },
        );
      },
    );
    this.connecting = attempt;
    try {
      return await attempt;
    } finally {
      this.connecting = undefined;
    }
  }

  /** Reports `conn` broken: it is disposed and the next `get()` reconnects. Safe to call twice. */
  lost(conn: T, err: unknown): void {
    if (this.current !== conn) return;
    this.current = undefined;
    this.failures = Math.max(this.failures, 1);
    this.nextAttemptAt = Date.now() + this.initialMs;
    this.opts.health.down(err);
    void this.opts.dispose(conn);
  }

  /** Idempotent; waits for a pending connect and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => {});
    const conn = this.current;
    this.current = undefined;
    if (conn !== undefined) await this.opts.dispose(conn);
  }
}
