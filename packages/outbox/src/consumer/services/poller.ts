/**
 * The poller: the backstop for lost or missing notifications (LISTEN off,
 * reconnecting, a notification that never came): wakes the claimer every
 * pollIntervalMs.
 */
import { Loop } from "../loop.js";

export class Poller {
  readonly loop: Loop;
  lastPollAt: Date | null = null;

  constructor(intervalMs: number, wake: () => void, onError: (err: unknown, loop: string) => void) {
    this.loop = new Loop(
      "poller",
      intervalMs,
      async () => {
        this.lastPollAt = new Date();
        wake();
      },
      onError,
    );
  }
}
