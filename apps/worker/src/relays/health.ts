import type { Logger } from "@cutover/outbox";
import { errorMessage, redact } from "./errors.js";

/** What `/health` shows per relay. `ok` is false only once closed: a broker outage degrades, it never fails liveness (a restart would not help). */
export interface RelayHealthStatus {
  ok: boolean;
  degraded: boolean;
  lastError?: string;
}

/** Tracks one relay's up/down state and logs each transition once. */
export class RelayHealthState {
  private degraded = false;
  private closed = false;
  private lastError: string | undefined;

  constructor(
    private readonly relay: string,
    private readonly kind: string,
    private readonly logger: Logger,
    private readonly secrets: readonly (string | undefined)[],
  ) {}

  /** Redacted message of an error, safe for logs and health. */
  describe(err: unknown): string {
    return redact(errorMessage(err), this.secrets).slice(0, 500);
  }

  down(err: unknown): void {
    this.lastError = this.describe(err);
    if (!this.degraded) {
      this.degraded = true;
      this.logger.warn({ relay: this.relay, kind: this.kind, err: this.lastError }, "relay degraded");
    }
  }

  up(): void {
    if (this.degraded) {
      this.degraded = false;
      this.logger.info({ relay: this.relay, kind: this.kind }, "relay recovered");
    }
  }

  markClosed(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  snapshot(): RelayHealthStatus {
    return {
      ok: !this.closed,
      degraded: this.degraded,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }
}
