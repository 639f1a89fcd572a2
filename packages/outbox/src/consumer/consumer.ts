/**
 * The consumer's lifecycle: createConsumer, start/stop/drain, its state and
 * health. It wires the rooms together and owns what they share: the pool,
 * the LISTEN connection, the typed events and the metrics. Claiming is
 * claim.ts, running claimed rows work.ts and chunk/, the retry/dead decision
 * outcome.ts, the background loops services/.
 */
import pg from "pg";
import { CutoverError } from "../errors.js";
import { resolveGeneration } from "../generation.js";
import { channelFor, quoteIdent } from "../identifiers.js";
import { silentLogger } from "../logger.js";
import { assertSchemaCurrent } from "../migrate.js";
import { isConnectionError } from "../sqlstate.js";
import { type SessionBounds, sessionBounds } from "./bounds.js";
import type { ChunkEnv } from "./chunk/chunk.js";
import { Claimer } from "./claim.js";
import { type ConsumerEvents, type ConsumerState, TypedEmitter } from "./events.js";
import { HandlerIndex } from "./handlers.js";
import { LISTEN_QUERY_TIMEOUT_MS, Listener } from "./listener.js";
import type { Loop } from "./loop.js";
import { type ConsumerMetrics, MetricsRecorder } from "./metrics.js";
import { type ConsumerOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { RetryPolicies } from "./outcome.js";
import { logEvents } from "./report.js";
import { Heartbeat } from "./services/heartbeat.js";
import { leaseLoop } from "./services/lease.js";
import { Poller } from "./services/poller.js";
import { prunerLoop } from "./services/pruner.js";
import { Reaper } from "./services/reaper.js";
import { consumerSql, type Statements, statements } from "./sql.js";
import { Work } from "./work.js";

export interface ConsumerHealth {
  state: "starting" | "running" | "reconnecting" | "draining" | "stopped";
  database: { ok: boolean; lastError?: string };
  listen: { ok: boolean; connected: boolean; enabled: boolean; lastNotificationAt?: Date };
  heartbeat: { ok: boolean; lastBeatAt: Date | null };
  reaper: { lastRunAt: Date | null; lastReaped: number };
  poller: { lastPollAt: Date | null };
}

export interface Consumer {
  readonly workerId: string;
  readonly generation: number;
  /**
   * Verifies the generation is allocated (GENERATION_NOT_ALLOCATED) and the
   * schema current (SCHEMA_BEHIND), registers the workers row, opens the
   * LISTEN connection and starts claiming. Resolves once listening and the
   * workers row says `running`. A consumer starts once; on failure everything it opened is closed.
   */
  start(): Promise<void>;
  /**
   * Stops claiming, waits up to `timeoutMs` (default 25 s) for running
   * handlers, then aborts them and releases every row still held back to
   * `pending` (fenced, the attempt given back), marks the workers row
   * `exited` and closes everything it opened. Idempotent; safe before start().
   */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
  /**
   * Processes until no row of this generation (for this consumer's topics)
   * is pending or in flight, then resolves; the consumer keeps running.
   * Delayed retries and future `availableAt` rows count as remaining: their
   * delay is honoured, so a drain can take up to the backoff; bound it with
   * `timeoutMs` (default: none). Starts the consumer if needed.
   */
  drain(opts?: { timeoutMs?: number }): Promise<{ handled: number; dead: number; remaining: number }>;
  on<E extends keyof ConsumerEvents>(event: E, listener: (payload: ConsumerEvents[E]) => void): () => void;
  metrics(): ConsumerMetrics;
  health(): ConsumerHealth;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Creates a consumer. Options are validated here (CONFIG_INVALID, HANDLER_INVALID, HANDLER_DUPLICATE, GENERATION_*). */
export function createConsumer(options: ConsumerOptions): Consumer {
  return new OutboxConsumer(resolveOptions(options));
}

/** What the consumer runs once it has a pool: the rooms that need the database. */
interface Rooms {
  pool: pg.Pool;
  work: Work;
  claimer: Claimer;
  heartbeat: Heartbeat;
  /** Set once start() got as far as the background loops. */
  loops?: { poller: Poller; reaper: Reaper; lease: Loop; pruner: Loop; all: Loop[] };
}

class OutboxConsumer implements Consumer {
  readonly workerId: string;
  readonly generation: number;
  private readonly o: ResolvedOptions;
  private readonly emitter = new TypedEmitter();
  private readonly recorder = new MetricsRecorder();
  private readonly sql: Statements;
  /** Timeouts of every connection this consumer opens (bounds.ts). */
  private readonly bounds: SessionBounds;
  private readonly handlers: HandlerIndex;
  private readonly retry: RetryPolicies;

  private state: ConsumerState = "idle";
  private rooms: Rooms | undefined;
  private ownPool = false;
  private readonly poolErrorListener = (err: Error) => this.dbFailed(err);
  private listener: Listener | undefined;
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private readonly forced = new AbortController();
  private readonly stopping = new AbortController();
  private draining = 0;
  private dbOk = true;
  private dbError: string | undefined;

  constructor(o: ResolvedOptions) {
    this.o = o;
    this.workerId = o.workerId;
    this.generation = o.generation;
    this.handlers = new HandlerIndex(o.handlers);
    this.retry = new RetryPolicies({ maxAttempts: o.maxAttempts, backoff: o.backoff }, this.handlers);
    this.sql = statements(consumerSql(o.schema, this.handlers.topics), o.preparedStatements);
    this.bounds = sessionBounds(o);
    if (o.logEvents && o.logger !== silentLogger) {
      logEvents(this.emitter, o.logger, { workerId: this.workerId, generation: this.generation });
    }
  }

  /**
   * Connection settings that keep a frozen peer or a partition from making
   * anything wait without end (bounds.ts): the server ends an idle or long
   * transaction of ours, pg fails a statement whose reply never comes, TCP
   * keepalive finds a dead idle connection.
   */
  private connectionBounds(): pg.ClientConfig {
    const b = this.bounds;
    return {
      idle_in_transaction_session_timeout: b.sessionMs,
      statement_timeout: b.sessionMs,
      lock_timeout: b.sessionMs,
      query_timeout: b.queryMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: b.keepAliveMs,
    };
  }

  // ---------------------------------------------------------------- events and state

  on<E extends keyof ConsumerEvents>(event: E, listener: (payload: ConsumerEvents[E]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  private setState(to: ConsumerState): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.emitter.emit("state", { from, to });
    this.rooms?.heartbeat.loop.trigger();
  }

  private reportError(err: unknown, during: string): void {
    this.o.logger.warn({ err: errText(err), during, workerId: this.workerId }, "consumer loop error");
    this.emitter.emit("error", { error: err, during });
    if (isConnectionError(err)) this.dbFailed(err);
  }

  private dbFailed(err: unknown): void {
    this.dbError = errText(err);
    // A claim may have committed while its answer was lost with the connection.
    this.rooms?.claimer.claimsMayBeLost();
    if (this.dbOk) {
      this.dbOk = false;
      this.emitter.emit("reconnecting", { connection: "database", attempt: 1, error: this.dbError });
      this.refreshState();
    }
  }

  private dbSucceeded(): void {
    if (!this.dbOk) {
      this.dbOk = true;
      this.dbError = undefined;
      this.emitter.emit("reconnected", { connection: "database" });
      this.refreshState();
      this.wake();
    }
  }

  private refreshState(): void {
    if (this.state !== "running" && this.state !== "reconnecting") return;
    const healthy = this.dbOk && (!this.o.listen || (this.listener?.connected ?? false));
    this.setState(healthy ? "running" : "reconnecting");
  }

  private wake(): void {
    this.rooms?.claimer.wake();
  }

  /** The workers row's status for the consumer's state. */
  private dbStatus(): string {
    switch (this.state) {
      case "starting":
      case "idle":
        return "starting";
      case "reconnecting":
        return "reconnecting";
      case "draining":
      case "stopping":
        return "draining";
      case "stopped":
        return "exited";
      default:
        return this.draining > 0 ? "draining" : "running";
    }
  }

  // ---------------------------------------------------------------- lifecycle

  start(): Promise<void> {
    // Checked before startPromise: once stop() was called, the first start's
    // settled promise must not make a later start() look like it worked.
    if (this.stopPromise) {
      return Promise.reject(
        new CutoverError(
          "CONSUMER_STATE",
          `cannot start a consumer after stop() (it is ${this.state}); a consumer starts once: create a new one`,
        ),
      );
    }
    if (this.startPromise) return this.startPromise;
    if (this.state !== "idle") {
      return Promise.reject(
        new CutoverError("CONSUMER_STATE", `cannot start a consumer that is ${this.state}`),
      );
    }
    this.startPromise = this.doStart();
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    this.setState("starting");
    const o = this.o;
    try {
      const rooms = this.openRooms();
      rooms.pool.on("error", this.poolErrorListener);
      await assertSchemaCurrent(rooms.pool, o.schema);
      await resolveGeneration(rooms.pool, { schema: o.schema, generation: this.generation });
      await rooms.heartbeat.beat("starting");
      if (o.listen) await this.startListener();
      const loops = this.startLoops(rooms);
      rooms.claimer.accepting = true;
      this.setState("running");
      this.refreshState();
      // start() resolves with the workers row already saying "running"
      // (status, ops and the rollout checks read it right after start).
      await rooms.heartbeat.beat();
      rooms.heartbeat.loop.start();
      loops.poller.loop.start();
      loops.reaper.loop.start({ immediately: true });
      loops.lease.start();
      loops.pruner.start();
      this.wake();
    } catch (err) {
      await this.teardown();
      this.setState("stopped");
      throw err;
    }
  }

  /** The pool (given, or opened here) and the rooms that run on it. */
  private openRooms(): Rooms {
    const o = this.o;
    let pool: pg.Pool;
    if (o.pool) {
      pool = o.pool;
    } else {
      pool = new pg.Pool({
        connectionString: o.databaseUrl,
        max: o.concurrency + 3,
        // Keep the two connections a notified claim uses (the claim's and
        // the first chunk's pre-opened BEGIN) past pg-pool's 10 s idle
        // timeout: after a quiet spell the next event's claim would
        // otherwise open a connection, on a cold backend that parses and
        // plans the prepared statements again (p50 15 ms instead of 2 ms
        // after 11 s idle; tools/bench/profile/PROFILE.md, section 10).
        min: 2,
        application_name: `cutover:${this.workerId}`.slice(0, 63),
        connectionTimeoutMillis: 10_000,
        ...this.connectionBounds(),
      });
      this.ownPool = true;
    }
    const env: ChunkEnv = {
      pool,
      sql: this.sql,
      generation: this.generation,
      workerId: this.workerId,
      completion: o.completion,
      handlers: this.handlers,
      retry: this.retry,
      events: o.events,
      handlerTimeoutMs: o.handlerTimeoutMs,
      sessionMs: this.bounds.sessionMs,
      logger: o.logger,
      forced: this.forced.signal,
      metrics: this.recorder,
    };
    const onError = (err: unknown, during: string) => this.reportError(err, during);
    const work = new Work(env, o.batchSize, this.recorder, this.emitter, {
      chunkDone: () => claimer.chunkDone(),
      retryIn: (ms) => claimer.wakeIn(ms),
      error: onError,
    });
    const claimer = new Claimer({
      pool,
      sql: this.sql,
      generation: this.generation,
      workerId: this.workerId,
      leaseMs: o.leaseMs,
      concurrency: o.concurrency,
      handlers: this.handlers,
      work,
      recorder: this.recorder,
      emitter: this.emitter,
      logger: o.logger,
      answered: () => this.dbSucceeded(),
      error: onError,
    });
    const heartbeat = new Heartbeat({
      pool,
      sql: this.sql,
      o,
      subscriptions: this.handlers.subscriptions,
      status: () => this.dbStatus(),
      answered: () => this.dbSucceeded(),
      onError,
    });
    this.rooms = { pool, work, claimer, heartbeat };
    return this.rooms;
  }

  private async startListener(): Promise<void> {
    const o = this.o;
    const base: pg.ClientConfig = o.pool
      ? { ...((o.pool as unknown as { options: pg.ClientConfig }).options ?? {}) }
      : { connectionString: o.databaseUrl };
    this.listener = new Listener(
      {
        ...base,
        application_name: `cutover-listen:${this.workerId}`.slice(0, 63),
        connectionTimeoutMillis: 10_000,
        // A LISTEN connection that stopped answering (a partition, a
        // frozen proxy) fails pg-listen's periodic check (every
        // LISTEN_CHECK_MS) within LISTEN_QUERY_TIMEOUT_MS and reconnects;
        // the poll covers meanwhile. It only ever runs trivial statements.
        ...this.connectionBounds(),
        query_timeout: LISTEN_QUERY_TIMEOUT_MS,
      },
      channelFor(o.schema, this.generation),
      {
        onNotify: () => this.rooms?.claimer.notify(),
        onConnected: (reconnected) => {
          if (!reconnected) return;
          this.recorder.reconnected();
          this.emitter.emit("reconnected", { connection: "listen" });
          this.refreshState();
          // Notifications sent while reconnecting are lost: catch up now.
          this.wake();
        },
        onReconnecting: (attempt) => {
          this.emitter.emit("reconnecting", { connection: "listen", attempt });
          this.refreshState();
        },
        onError: (err) => this.reportError(err, "listen"),
      },
    );
    await this.listener.start();
  }

  /** The background loops (services/), created; start() starts them. */
  private startLoops(rooms: Rooms): NonNullable<Rooms["loops"]> {
    const o = this.o;
    const { pool } = rooms;
    const onError = (err: unknown, loop: string) => this.reportError(err, loop);
    const poller = new Poller(o.pollIntervalMs, () => this.wake(), onError);
    const reaper = new Reaper({
      pool,
      sql: this.sql,
      generation: this.generation,
      staleAfterMs: o.staleAfterMs,
      intervalMs: o.reaperIntervalMs,
      retry: this.retry,
      recorder: this.recorder,
      emitter: this.emitter,
      answered: () => this.dbSucceeded(),
      wake: () => this.wake(),
      onError,
    });
    const lease = leaseLoop({
      pool,
      sql: this.sql,
      generation: this.generation,
      workerId: this.workerId,
      leaseMs: o.leaseMs,
      held: rooms.work.inFlight,
      onError,
    });
    const pruner = prunerLoop({
      pool,
      schema: o.schema,
      retention: o.retention,
      signal: this.stopping.signal,
      onError,
    });
    const all = [poller.loop, reaper.loop, lease, pruner, rooms.heartbeat.loop];
    rooms.loops = { poller, reaper, lease, pruner, all };
    return rooms.loops;
  }

  stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.stopPromise) this.stopPromise = this.doStop(opts.timeoutMs ?? 25_000);
    return this.stopPromise;
  }

  private async doStop(timeoutMs: number): Promise<void> {
    if (this.state === "idle") {
      this.setState("stopped");
      return;
    }
    if (this.startPromise) await this.startPromise.catch(() => {});
    if (this.state === "stopped") return;
    const rooms = this.rooms!;
    this.stopping.abort();
    rooms.claimer.close();
    this.setState("draining");
    await rooms.loops?.poller.loop.stop();
    await this.listener?.stop();
    await rooms.claimer.stop();
    if (!(await rooms.work.finish(timeoutMs))) {
      this.o.logger.warn(
        { workerId: this.workerId, inFlight: rooms.work.inFlight.size },
        "stop timed out: aborting handlers and releasing held rows",
      );
      this.forced.abort(new Error("forced shutdown"));
      await rooms.work.settled();
    }
    await this.teardown();
    this.setState("stopped");
  }

  /** Closes everything opened; marks the worker exited. Never throws. */
  private async teardown(): Promise<void> {
    const rooms = this.rooms;
    rooms?.claimer.close();
    await this.listener?.stop().catch(() => {});
    for (const l of rooms?.loops?.all ?? []) await l.stop();
    if (!rooms) return;
    const { pool, work } = rooms;
    if (work.hasUnreleased()) {
      await work
        .releaseUnreleased(pool)
        .catch((err: unknown) =>
          this.o.logger.warn(
            { err: errText(err), ids: work.unreleasedIds() },
            "could not release rows of failed chunks at stop; they wait for their lease to expire",
          ),
        );
    }
    if (rooms.heartbeat.lastBeatAt) {
      await pool
        .query(
          `UPDATE ${quoteIdent(this.o.schema)}.workers SET status = 'exited', last_seen = now() WHERE id = $1`,
          [this.workerId],
        )
        .catch((err: unknown) =>
          this.o.logger.warn({ err: errText(err) }, "could not mark the worker exited; it will look stale"),
        );
    }
    if (this.ownPool) {
      // pool.end() resolves before its sockets are closed: a server shutting
      // down meanwhile still errors them, so our pool keeps a listener.
      pool.on("error", () => {});
      await pool.end().catch(() => {});
    }
    pool.off("error", this.poolErrorListener);
    rooms.claimer.releaseWaiters();
  }

  // ---------------------------------------------------------------- drain, metrics, health

  async drain(
    opts: { timeoutMs?: number } = {},
  ): Promise<{ handled: number; dead: number; remaining: number }> {
    if (this.state === "idle") await this.start();
    const rooms = this.rooms;
    if (!rooms?.claimer.accepting)
      throw new CutoverError("CONSUMER_STATE", `cannot drain a consumer that is ${this.state}`);
    const { claimer, pool, heartbeat } = rooms;
    const before = this.recorder.snapshot(0);
    const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
    this.draining++;
    heartbeat.loop.trigger();
    let remaining = -1;
    try {
      while (claimer.accepting) {
        this.wake();
        await claimer.waitIdle(this.stopping.signal);
        const params: unknown[] = [this.generation, ...this.handlers.filterParams()];
        try {
          const { rows } = await pool.query<{ n: number }>(this.sql.remaining, params);
          remaining = rows[0]?.n ?? 0;
        } catch (err) {
          this.reportError(err, "drain");
        }
        if (remaining === 0 || Date.now() >= deadline) break;
        await sleep(
          Math.min(this.o.pollIntervalMs, 100, Math.max(0, deadline - Date.now())),
          this.stopping.signal,
        );
      }
    } finally {
      this.draining--;
      // Resolve with the workers row saying running again (or exited), not
      // still draining until the next heartbeat.
      if (claimer.accepting) await heartbeat.beat().catch(() => {});
    }
    const after = this.recorder.snapshot(0);
    return {
      handled: after.handled.total - before.handled.total,
      dead: after.dead.total - before.dead.total,
      remaining: Math.max(remaining, 0),
    };
  }

  metrics(): ConsumerMetrics {
    return this.recorder.snapshot(this.rooms?.work.inFlight.size ?? 0);
  }

  health(): ConsumerHealth {
    const state: ConsumerHealth["state"] =
      this.state === "idle" || this.state === "starting"
        ? "starting"
        : this.state === "stopping"
          ? "draining"
          : this.state === "running" && this.draining > 0
            ? "draining"
            : this.state;
    const l = this.listener;
    const listenOk = !this.o.listen || (l?.connected ?? false);
    const heartbeat = this.rooms?.heartbeat;
    const loops = this.rooms?.loops;
    return {
      state,
      database: { ok: this.dbOk, ...(this.dbError ? { lastError: this.dbError } : {}) },
      listen: {
        ok: listenOk,
        connected: l?.connected ?? false,
        enabled: this.o.listen,
        ...(l?.lastNotificationAt ? { lastNotificationAt: l.lastNotificationAt } : {}),
      },
      heartbeat: { ok: heartbeat?.healthy() ?? false, lastBeatAt: heartbeat?.lastBeatAt ?? null },
      reaper: { lastRunAt: loops?.reaper.lastRunAt ?? null, lastReaped: loops?.reaper.lastReaped ?? 0 },
      poller: { lastPollAt: loops?.poller.lastPollAt ?? null },
    };
  }
}
