export type ConsumerState =
  | "idle"
  | "starting"
  | "running"
  | "reconnecting"
  | "draining"
  | "stopping"
  | "stopped";

interface EventRef {
  id: string;
  topic: string;
  attempt: number;
  idempotencyKey: string;
  /** The publisher's `tenant` option; null when it gave none. */
  tenant: string | null;
  headers: Record<string, string>;
}

/** The typed events a consumer emits (`consumer.on(name, listener)`). Listeners must not throw; if they do it is ignored. */
export interface ConsumerEvents {
  /** A claim returned rows. lagMs: now() - available_at of the oldest. */
  claimed: { count: number; ids: string[]; lagMs: number };
  /** An event is done (emitted after its transaction committed). */
  handled: EventRef & { handlers: string[]; skipped: string[]; durationMs: number };
  /** A handler run failed; the event is retried after retryInMs (null when it went dead instead). */
  failed: EventRef & { handler: string | null; error: string; retryInMs: number | null };
  /** An event went dead (after its transaction committed). */
  dead: EventRef & { handler: string | null; error: string };
  /** The reaper re-pended (or, at the attempt limit, deaded) stuck rows of this generation. */
  reaped: { count: number; ids: string[]; dead: string[]; fromWorkers: string[] };
  /** A connection was lost and is being reopened. */
  reconnecting: { connection: "listen" | "database"; attempt: number; error?: string };
  reconnected: { connection: "listen" | "database" };
  state: { from: ConsumerState; to: ConsumerState };
  /** Something went wrong in a background loop; the consumer carries on. */
  error: { error: unknown; during: string };
}

type Listener<E extends keyof ConsumerEvents> = (payload: ConsumerEvents[E]) => void;

export class TypedEmitter {
  private readonly listeners = new Map<keyof ConsumerEvents, Set<Listener<never>>>();

  on<E extends keyof ConsumerEvents>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  has(event: keyof ConsumerEvents): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends keyof ConsumerEvents>(event: E, payload: ConsumerEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of set) {
      try {
        (l as Listener<E>)(payload);
      } catch {
        // A listener's failure must not break processing.
      }
    }
  }
}
