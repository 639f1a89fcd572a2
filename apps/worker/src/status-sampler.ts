import { type OutboxStatus, outboxStatus } from "@cutover/outbox";
import type pg from "pg";

/**
 * Samples outboxStatus() every `intervalMs` for /health and /metrics, so a
 * scrape never waits on (or multiplies) the counting query. One start/stop
 * contract: stop() is idempotent, safe before start(), and awaits a sample
 * in progress.
 */
export class StatusSampler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  latest: OutboxStatus | undefined;
  sampledAt: Date | undefined;
  lastError: string | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: { schema: string; staleAfterMs: number; intervalMs: number },
  ) {}

  start(): void {
    if (this.stopped || this.timer || this.running) return;
    this.tick();
  }

  private tick(): void {
    this.timer = undefined;
    this.running = this.sample().finally(() => {
      this.running = undefined;
      if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.opts.intervalMs);
    });
  }

  /** Takes one sample now; never throws (the error is kept in lastError). */
  async sample(): Promise<void> {
    try {
      this.latest = await outboxStatus(this.pool, {
        schema: this.opts.schema,
        staleAfterMs: this.opts.staleAfterMs,
      });
      this.sampledAt = new Date();
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
