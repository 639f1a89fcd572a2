/**
 * One start/stop contract for every background loop (poller, reaper,
 * heartbeat, lease extender, pruner): runs `tick` every `intervalMs` (never
 * overlapping itself); `trigger()` runs it as soon as the current run ends;
 * `stop()` is idempotent, safe before `start()`, and resolves only after the
 * running tick has finished and no timer is left.
 */
export class Loop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private state: "idle" | "started" | "stopped" = "idle";

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly tick: () => Promise<void>,
    private readonly onError: (err: unknown, loop: string) => void,
  ) {}

  start(opts: { immediately?: boolean } = {}): void {
    if (this.state !== "idle") return;
    this.state = "started";
    if (opts.immediately) this.trigger();
    else this.schedule();
  }

  /** Runs the tick now (or right after the running one), then resumes the interval. */
  trigger(): void {
    if (this.state !== "started") return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = (async () => {
      try {
        await this.tick();
      } catch (err) {
        this.onError(err, this.name);
      }
    })().finally(() => {
      this.running = undefined;
      if (this.state !== "started") return;
      if (this.again) {
        this.again = false;
        this.trigger();
      } else this.schedule();
    });
  }

  private schedule(): void {
    if (this.state !== "started" || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.trigger();
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    this.state = "stopped";
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.again = false;
    await this.running;
  }
}
