import { hostname } from "node:os";
import pg from "pg";
import { corkedPoolQuery, toQueryable } from "../db.js";
import { CutoverError } from "../errors.js";
import { isTopicPattern, likePatternFor, topicMatches } from "../events.js";
import { resolveGeneration } from "../generation.js";
import { ALL_TOPICS, type HandlerDefinition, type OutboxEvent } from "../handler.js";
import { channelFor, quoteIdent } from "../identifiers.js";
import { silentLogger } from "../logger.js";
import { assertSchemaCurrent } from "../migrate.js";
import { isConnectionError } from "../sqlstate.js";
import { type SessionBounds, sessionBounds } from "./bounds.js";
import {
  CHUNK_TIME_BUDGET_MS,
  type ChunkEnv,
  discardChunkTransaction,
  type OpenedChunk,
  type Outcome,
  openChunkTransaction,
  processChunk,
  release,
  SAVEPOINT_BUDGET,
} from "./chunk.js";
import { type ConsumerEvents, type ConsumerState, TypedEmitter } from "./events.js";
import { LISTEN_QUERY_TIMEOUT_MS, Listener } from "./listener.js";
import { Loop } from "./loop.js";
import { type ConsumerMetrics, MetricsRecorder } from "./metrics.js";
import { type ConsumerOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { pruneBatches } from "./prune.js";
import { type ClaimedRow, consumerSql, type Statements, statements, type TopicFilter } from "./sql.js";

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

type Tracked = { topic: string };

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

class OutboxConsumer implements Consumer {
  readonly workerId: string;
  readonly generation: number;
  private readonly o: ResolvedOptions;
  private readonly emitter = new TypedEmitter();
  private readonly recorder = new MetricsRecorder();
  private readonly sql: Statements;
  /** Timeouts of every connection this consumer opens (bounds.ts). */
  private readonly bounds: SessionBounds;
  /** The claim's topic filter; null when some handler subscribes to `*`. */
  private readonly topics: TopicFilter | null;
  /** Every distinct subscription of the handler set, sorted. */
  private readonly subscriptions: string[];
  /** Topic -> the handlers whose subscriptions match it (bounded cache). */
  private readonly byTopic = new Map<string, HandlerDefinition[]>();
  private readonly limits: { topics: string[]; max: number[] };
  /**
   * Handlers that subscribe to one exact topic: a (handler, key) pair of
   * theirs belongs to one outbox row only (topic and key are unique), so
   * such a run may start before the chunk's event_handled insert answers
   * (docs/guarantees.md, "Eager start"). Pairwise topics and names for the
   * claim's `seen` probe.
   */
  private readonly eager: { handlers: ReadonlySet<HandlerDefinition>; topics: string[]; names: string[] };

  private state: ConsumerState = "idle";
  private pool: pg.Pool | undefined;
  private ownPool = false;
  private readonly poolErrorListener = (err: Error) => this.dbFailed(err);
  private listener: Listener | undefined;
  private loops: Loop[] = [];
  private poller: Loop | undefined;
  private heartbeat: Loop | undefined;
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private readonly forced = new AbortController();
  private readonly stopping = new AbortController();

  private accepting = false;
  private pumping: Promise<void> | undefined;
  private wakeAgain = false;
  /** A notification arrived since the last claim: the next claim opens its chunk transaction alongside. */
  private notified = false;
  private backlog = false;
  /**
   * What handler runs have cost lately (moving averages over chunks): the
   * share of runs that wrote through ctx.tx (each a savepoint) and the time
   * per run. Chunks are sized from them (chunkSize()); a fresh consumer
   * assumes every run writes.
   */
  private writeRate = 1;
  private runMs = 0;
  private readonly active = new Set<Promise<void>>();
  private readonly inFlight = new Map<string, Tracked>();
  /**
   * Outcomes of failed chunks whose release failed too (the database was unreachable): their rows
   * are still in flight and claimed by this live worker, so no reaper takes them before their lease
   * expires. Released (fenced) before the next claim, so they run again as soon as the database
   * answers, ahead of rows published after them.
   */
  private unreleased: Outcome[] = [];
  /** Set when a database call failed: before the next claim, give back claims whose answer was lost. */
  private lostClaimsPossible = false;
  private idleWaiters: Array<() => void> = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private draining = 0;

  private dbOk = true;
  private dbError: string | undefined;
  private lastBeatAt: Date | null = null;
  private heartbeatOk = false;
  private lastReaperRunAt: Date | null = null;
  private lastReaped = 0;
  private lastPollAt: Date | null = null;

  constructor(o: ResolvedOptions) {
    this.o = o;
    this.workerId = o.workerId;
    this.generation = o.generation;
    const subs = new Set<string>();
    for (const h of o.handlers) for (const t of h.topics) subs.add(t);
    this.subscriptions = [...subs].sort();
    if (subs.has(ALL_TOPICS)) {
      this.topics = null;
    } else {
      const exact = this.subscriptions.filter((t) => !isTopicPattern(t));
      const likes = this.subscriptions.filter((t) => isTopicPattern(t)).map(likePatternFor);
      this.topics = { exact, likes };
    }
    for (const t of this.subscriptions) {
      if (t !== ALL_TOPICS && !isTopicPattern(t)) this.handlersFor(t);
    }
    // An event's attempt limit is the largest of its handlers' limits, so no
    // handler loses tries it was promised: per subscription the largest of
    // its handlers' limits; the reaper takes the largest a topic matches.
    const limits = { topics: [] as string[], max: [] as number[] };
    for (const t of this.subscriptions) {
      const hs = o.handlers.filter((h) => h.topics.includes(t));
      limits.topics.push(likePatternFor(t));
      limits.max.push(Math.max(...hs.map((h) => h.maxAttempts ?? o.maxAttempts)));
    }
    this.limits = limits;
    const eager = o.handlers.filter(
      (h) => h.topics.length === 1 && h.topics[0] !== ALL_TOPICS && !isTopicPattern(h.topics[0]!),
    );
    this.eager = {
      handlers: new Set(eager),
      topics: eager.map((h) => h.topics[0]!),
      names: eager.map((h) => h.name),
    };
    this.sql = statements(consumerSql(o.schema, this.topics), o.preparedStatements);
    this.bounds = sessionBounds(o);
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

  /** The handlers whose subscriptions match `topic`, in handler order. */
  private handlersFor(topic: string): HandlerDefinition[] {
    let hs = this.byTopic.get(topic);
    if (hs === undefined) {
      hs = this.o.handlers.filter((h) => h.topics.some((t) => topicMatches(t, topic)));
      if (this.byTopic.size >= 10_000) this.byTopic.clear();
      this.byTopic.set(topic, hs);
    }
    return hs;
  }

  // ---------------------------------------------------------------- events

  on<E extends keyof ConsumerEvents>(event: E, listener: (payload: ConsumerEvents[E]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  private setState(to: ConsumerState): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.emitter.emit("state", { from, to });
    this.o.logger.info({ workerId: this.workerId, generation: this.generation, from, to }, "consumer state");
    this.heartbeat?.trigger();
  }

  private reportError(err: unknown, during: string): void {
    this.o.logger.warn({ err: errText(err), during, workerId: this.workerId }, "consumer loop error");
    this.emitter.emit("error", { error: err, during });
    if (isConnectionError(err)) this.dbFailed(err);
  }

  private dbFailed(err: unknown): void {
    this.dbError = errText(err);
    // A claim may have committed while its answer was lost with the connection.
    this.lostClaimsPossible = true;
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
    if (this.state !== "running" && this.state !== "reconnecting" && this.state !== "draining") return;
    if (this.state === "draining") return;
    const healthy = this.dbOk && (!this.o.listen || (this.listener?.connected ?? false));
    this.setState(healthy ? "running" : "reconnecting");
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
      if (o.pool) {
        this.pool = o.pool;
      } else {
        this.pool = new pg.Pool({
          connectionString: o.databaseUrl,
          max: o.concurrency + 3,
          application_name: `cutover:${this.workerId}`.slice(0, 63),
          connectionTimeoutMillis: 10_000,
          ...this.connectionBounds(),
        });
        this.ownPool = true;
      }
      this.pool.on("error", this.poolErrorListener);
      await assertSchemaCurrent(this.pool, o.schema);
      await resolveGeneration(this.pool, { schema: o.schema, generation: this.generation });
      await this.beat("starting");
      if (o.listen) {
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
            onNotify: () => {
              this.notified = true;
              this.wake();
            },
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
      const onErr = (err: unknown, loop: string) => this.reportError(err, loop);
      this.heartbeat = new Loop("heartbeat", o.heartbeatIntervalMs, () => this.beat(), onErr);
      this.poller = new Loop(
        "poller",
        o.pollIntervalMs,
        async () => {
          this.lastPollAt = new Date();
          this.wake();
        },
        onErr,
      );
      const reaper = new Loop("reaper", o.reaperIntervalMs, () => this.reap(), onErr);
      const lease = new Loop(
        "lease",
        Math.max(50, Math.floor(o.leaseMs / 3)),
        () => this.extendLeases(),
        onErr,
      );
      const pruner = new Loop("pruner", o.retention.intervalMs, () => this.prune(), onErr);
      this.loops = [this.poller, reaper, lease, pruner, this.heartbeat];
      this.accepting = true;
      this.setState("running");
      this.refreshState();
      // start() resolves with the workers row already saying "running"
      // (status, ops and the rollout checks read it right after start).
      await this.beat();
      this.heartbeat.start();
      this.poller.start();
      reaper.start({ immediately: true });
      lease.start();
      pruner.start();
      this.wake();
    } catch (err) {
      await this.teardown();
      this.setState("stopped");
      throw err;
    }
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
    this.stopping.abort();
    this.accepting = false;
    this.setState("draining");
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.poller?.stop();
    await this.listener?.stop();
    await this.pumping;
    if (this.active.size > 0) {
      const all = Promise.allSettled([...this.active]);
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        all.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!finished) {
        this.o.logger.warn(
          { workerId: this.workerId, inFlight: this.inFlight.size },
          "stop timed out: aborting handlers and releasing held rows",
        );
        this.forced.abort(new Error("forced shutdown"));
        await all;
      }
    }
    await this.teardown();
    this.setState("stopped");
  }

  /**
   * Retries the release of failed chunks' rows (fenced). Throws when the database still does not
   * answer; the outcomes are kept for the next try (and the lease is the backstop).
   */
  private async releaseUnreleased(): Promise<void> {
    const outcomes = this.unreleased;
    this.unreleased = [];
    let ids: string[];
    try {
      ids = await release(this.chunkEnv(), this.pool!, outcomes);
    } catch (err) {
      this.unreleased = outcomes.concat(this.unreleased);
      throw err;
    }
    const got = new Set(ids);
    this.report(outcomes.filter((o) => got.has(o.event.id)));
  }

  /**
   * Gives back rows claimed by this worker that it does not know it holds (their claim's answer was
   * lost with the connection). Runs from the claim path only, so no other claim of this consumer is
   * in flight; rows of running chunks are in `inFlight` and stay untouched. Throws when the database
   * still does not answer (the flag stays set).
   */
  private async releaseLostClaims(): Promise<void> {
    const { rows } = await this.pool!.query<{ id: string }>(this.sql.releaseLostClaims, [
      this.generation,
      this.workerId,
      [...this.inFlight.keys()],
    ]);
    this.lostClaimsPossible = false;
    if (rows.length > 0) {
      this.o.logger.warn(
        { ids: rows.map((r) => r.id), workerId: this.workerId },
        "released rows whose claim's answer was lost with the connection",
      );
    }
  }

  /** Closes everything opened; marks the worker exited. Never throws. */
  private async teardown(): Promise<void> {
    this.accepting = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.listener?.stop().catch(() => {});
    for (const l of this.loops) await l.stop();
    if (this.pool && this.unreleased.length > 0) {
      await this.releaseUnreleased().catch((err: unknown) =>
        this.o.logger.warn(
          { err: errText(err), ids: this.unreleased.map((o) => o.event.id) },
          "could not release rows of failed chunks at stop; they wait for their lease to expire",
        ),
      );
    }
    if (this.pool) {
      if (this.lastBeatAt) {
        await this.pool
          .query(
            `UPDATE ${this.qualified("workers")} SET status = 'exited', last_seen = now() WHERE id = $1`,
            [this.workerId],
          )
          .catch((err: unknown) =>
            this.o.logger.warn({ err: errText(err) }, "could not mark the worker exited; it will look stale"),
          );
      }
      if (this.ownPool) {
        // pool.end() resolves before its sockets are closed: a server shutting
        // down meanwhile still errors them, so our pool keeps a listener.
        this.pool.on("error", () => {});
        await this.pool.end().catch(() => {});
      }
      this.pool.off("error", this.poolErrorListener);
    }
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private qualified(table: string): string {
    return `${quoteIdent(this.o.schema)}.${table}`;
  }

  // ---------------------------------------------------------------- claiming

  /** Wakes the claimer: one claim at a time; a wake during a claim schedules exactly one more. */
  private wake(): void {
    if (!this.accepting) return;
    if (this.pumping) {
      this.wakeAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      this.notifyIdle();
    });
  }

  private async pump(): Promise<void> {
    for (;;) {
      this.wakeAgain = false;
      const free = this.o.concurrency - this.active.size;
      if (free <= 0) {
        this.backlog = true;
        return;
      }
      let full: boolean;
      const preopen = this.notified;
      this.notified = false;
      try {
        full = await this.claim(free, preopen);
      } catch (err) {
        this.reportError(err, "claim");
        return;
      }
      if (!this.accepting) return;
      if (full || this.wakeAgain) continue;
      this.backlog = false;
      return;
    }
  }

  /**
   * Claims and starts chunks. With `preopen` (woken by a notification, so
   * rows are probably there) the first chunk's connection and BEGIN are
   * opened while the claim runs, taking two statements off the path from
   * publish to handler start; if nothing is claimed they are rolled back.
   */
  private async claim(free: number, preopen = false): Promise<boolean> {
    const pool = this.pool!;
    if (this.unreleased.length > 0) await this.releaseUnreleased();
    if (this.lostClaimsPossible) await this.releaseLostClaims();
    const limit = free * this.chunkSize();
    const params: unknown[] = [
      this.generation,
      limit,
      this.workerId,
      this.o.leaseMs,
      this.eager.topics,
      this.eager.names,
    ];
    if (this.topics) params.push(this.topics.exact, this.topics.likes);
    let opening = preopen ? openChunkTransaction(pool) : undefined;
    let rows: ClaimedRow[];
    try {
      ({ rows } = await corkedPoolQuery<ClaimedRow>(pool, this.sql.claim, params));
    } catch (err) {
      if (opening) void discardChunkTransaction(opening);
      throw err;
    }
    this.dbSucceeded();
    const maxLag = rows.reduce((m, r) => Math.max(m, r.lag_ms), 0);
    this.recorder.claimed(rows.length, rows.length > 0 ? maxLag : null);
    if (rows.length === 0) {
      if (opening) void discardChunkTransaction(opening);
      return false;
    }
    // Ids are bigint text: shorter is smaller, then compare as strings.
    rows.sort((a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const r of rows) this.inFlight.set(r.id, { topic: r.topic });
    this.emitter.emit("claimed", {
      count: rows.length,
      ids: rows.map((r) => r.id),
      lagMs: Math.round(maxLag),
    });
    const chunks = Math.min(free, rows.length);
    const per = Math.ceil(rows.length / chunks);
    for (let i = 0; i < rows.length; i += per) {
      this.runChunk(rows.slice(i, i + per), opening);
      opening = undefined;
    }
    return rows.length === limit;
  }

  /**
   * Events per chunk: at most batchSize, and few enough that a chunk is
   * expected to take fewer than SAVEPOINT_BUDGET savepoints and about half of
   * CHUNK_TIME_BUDGET_MS of handler time. Handlers that do not write through
   * ctx.tx (relays, HTTP calls) and are quick get whole batchSize chunks, so
   * a chunk's four statements are shared by hundreds of events; writing
   * handlers get chunks of ~56. A chunk that runs over a budget anyway
   * defers the rest to a fresh chunk.
   */
  private chunkSize(): number {
    const byWrites = this.writeRate > 0 ? Math.floor(SAVEPOINT_BUDGET / this.writeRate) : Infinity;
    const byTime = this.runMs > 0 ? Math.floor(CHUNK_TIME_BUDGET_MS / 2 / this.runMs) : Infinity;
    return Math.max(1, Math.min(this.o.batchSize, byWrites, byTime));
  }

  private observe(runs: number, writes: number, handlerMs: number): void {
    if (runs === 0) return;
    const a = Math.min(0.8, runs / 100);
    this.writeRate = this.writeRate * (1 - a) + (writes / runs) * a;
    if (this.writeRate < 0.001) this.writeRate = 0;
    this.runMs = this.runMs * (1 - a) + (handlerMs / runs) * a;
  }

  private runChunk(rows: ClaimedRow[], opened?: Promise<OpenedChunk | undefined>): void {
    const p: Promise<void> = this.processRows(rows, opened).finally(() => {
      this.active.delete(p);
      if (this.backlog) {
        this.backlog = false;
        this.wake();
      }
      this.notifyIdle();
    });
    this.active.add(p);
  }

  /**
   * Runs claimed rows chunk after chunk: rows a chunk deferred (over its
   * savepoint or time budget) are still claimed by this worker with their
   * attempt counted once, so they run next in a fresh chunk, inside the same
   * active promise (stop() waits for them, or aborts and releases them).
   */
  private async processRows(rows: ClaimedRow[], opened?: Promise<OpenedChunk | undefined>): Promise<void> {
    let batch = rows;
    let first = opened;
    while (batch.length > 0) {
      let deferred: ClaimedRow[] = [];
      try {
        const res = await processChunk(this.chunkEnv(), batch, first);
        first = undefined;
        deferred = res.deferred;
        if (res.fencedOut.length > 0) {
          this.o.logger.warn(
            { ids: res.fencedOut, workerId: this.workerId },
            "rows were reaped from this worker while it processed them; the fence kept their new owner's result",
          );
        }
        const fenced = new Set(res.fencedOut);
        this.report(res.outcomes.filter((o) => !fenced.has(o.event.id)));
      } catch (e) {
        const err = e as { outcomes?: Outcome[]; unreleased?: Outcome[]; cause?: unknown };
        this.reportError(err.cause ?? err, "chunk");
        this.report(err.outcomes ?? []);
        if (err.unreleased?.length) this.unreleased.push(...err.unreleased);
      } finally {
        const keep = new Set(deferred.map((r) => r.id));
        for (const r of batch) if (!keep.has(r.id)) this.inFlight.delete(r.id);
      }
      batch = deferred;
    }
  }

  private chunkEnv(): ChunkEnv {
    const o = this.o;
    return {
      pool: this.pool!,
      sql: this.sql,
      generation: this.generation,
      workerId: this.workerId,
      handlersFor: (topic) => this.handlersFor(topic),
      eager: this.eager.handlers,
      events: o.events,
      handlerTimeoutMs: o.handlerTimeoutMs,
      sessionMs: this.bounds.sessionMs,
      maxAttemptsFor: (topic, handler) => {
        if (handler?.maxAttempts !== undefined) return handler.maxAttempts;
        const hs = this.handlersFor(topic);
        return hs.length > 0 ? Math.max(...hs.map((h) => h.maxAttempts ?? o.maxAttempts)) : o.maxAttempts;
      },
      backoffMs: (attempt) => {
        const cap = Math.min(o.backoff.maxMs, o.backoff.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
        return Math.floor(Math.random() * (cap + 1));
      },
      logger: o.logger,
      forced: this.forced.signal,
      duration: (ms) => this.recorder.duration(ms),
      observe: (runs, writes, handlerMs) => this.observe(runs, writes, handlerMs),
    };
  }

  /** Metrics and typed events for committed outcomes. */
  private report(outcomes: Outcome[]): void {
    let nextRetry = Number.POSITIVE_INFINITY;
    // The per-event 'handled' payload and debug line are built only when
    // someone listens or a logger was given (the hot path of a burn-down).
    const describeHandled = this.emitter.has("handled") || this.o.logger !== silentLogger;
    for (const out of outcomes) {
      const e = out.event;
      if (out.kind === "done") {
        this.recorder.count("handled", e.topic);
        for (const h of out.handlers) this.recorder.count("handled", e.topic, h, false);
        if (!describeHandled) continue;
        const ref = refOf(e);
        this.emitter.emit("handled", {
          ...ref,
          handlers: out.handlers,
          skipped: out.skipped,
          durationMs: out.durationMs,
        });
        this.o.logger.debug({ ...ref, handlers: out.handlers }, "event handled");
        continue;
      }
      const ref = refOf(e);
      if (out.kind === "retry" || out.kind === "dead") {
        for (const h of out.succeeded) this.recorder.count("handled", e.topic, h, false);
        this.recorder.count("failed", e.topic);
        for (const h of out.failedHandlers) this.recorder.count("failed", e.topic, h, false);
        this.emitter.emit("failed", {
          ...ref,
          handler: out.handler,
          error: out.error,
          retryInMs: out.retryInMs,
        });
        if (out.kind === "dead") {
          this.recorder.count("dead", e.topic, out.handler ?? "(payload)");
          this.emitter.emit("dead", { ...ref, handler: out.handler, error: out.error });
          this.o.logger.warn({ ...ref, error: out.error }, "event dead");
        } else {
          nextRetry = Math.min(nextRetry, out.retryInMs ?? 0);
          this.o.logger.info(
            { ...ref, error: out.error, retryInMs: out.retryInMs },
            "event failed; retrying",
          );
        }
      }
    }
    if (Number.isFinite(nextRetry)) this.scheduleRetryWake(nextRetry);
  }

  /** A retry becomes claimable without a notification: wake when the earliest is due. */
  private scheduleRetryWake(inMs: number): void {
    if (!this.accepting) return;
    const at = Date.now() + inMs + 5;
    if (this.retryTimer && this.retryAt <= at) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.wake();
      },
      Math.max(0, inMs + 5),
    );
  }

  private notifyIdle(): void {
    if (this.pumping || this.active.size > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private waitIdle(signal: AbortSignal): Promise<void> {
    if (!this.pumping && this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.idleWaiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  // ---------------------------------------------------------------- background loops

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

  private async beat(status = this.dbStatus()): Promise<void> {
    const o = this.o;
    try {
      await this.pool!.query(this.sql.heartbeat, [
        this.workerId,
        this.generation,
        o.version,
        hostname().slice(0, 200),
        process.pid,
        status,
        JSON.stringify({
          handlers: o.handlers.map((h) => h.name),
          topics: this.subscriptions,
          concurrency: o.concurrency,
          batchSize: o.batchSize,
        }),
      ]);
      this.lastBeatAt = new Date();
      this.heartbeatOk = true;
      this.dbSucceeded();
    } catch (err) {
      this.heartbeatOk = false;
      throw err;
    }
  }

  private async reap(): Promise<void> {
    this.lastReaperRunAt = new Date();
    const o = this.o;
    let total = 0;
    for (let round = 0; round < 100; round++) {
      const { rows } = await this.pool!.query<{
        id: string;
        topic: string;
        status: string;
        claimed_by: string;
      }>(this.sql.reap, [
        this.generation,
        o.staleAfterMs,
        o.maxAttempts,
        this.limits.topics,
        this.limits.max,
        500,
      ]);
      this.dbSucceeded();
      total += rows.length;
      if (rows.length === 0) break;
      const dead = rows.filter((r) => r.status === "dead").map((r) => r.id);
      for (const r of rows) {
        this.recorder.count("reaped", r.topic);
        if (r.status === "dead") this.recorder.count("dead", r.topic, "(reaper)");
      }
      this.emitter.emit("reaped", {
        count: rows.length,
        ids: rows.map((r) => r.id),
        dead,
        fromWorkers: [...new Set(rows.map((r) => r.claimed_by))],
      });
      this.o.logger.warn(
        { count: rows.length, dead: dead.length, fromWorkers: [...new Set(rows.map((r) => r.claimed_by))] },
        "reaped stuck in-flight rows",
      );
      this.wake();
      if (rows.length < 500) break;
    }
    this.lastReaped = total;
  }

  private async extendLeases(): Promise<void> {
    if (this.inFlight.size === 0) return;
    await this.pool!.query(this.sql.extendLeases, [
      [...this.inFlight.keys()],
      this.generation,
      this.workerId,
      this.o.leaseMs,
    ]);
  }

  private async prune(): Promise<void> {
    const r = this.o.retention;
    await pruneBatches(toQueryable(this.pool!, "pruner"), {
      schema: this.o.schema,
      doneOlderThanMs: r.doneAfterMs,
      handledOlderThanMs: r.handledAfterMs,
      exitedWorkersOlderThanMs: r.exitedWorkersAfterMs,
      batchSize: r.batchSize,
      signal: this.stopping.signal,
    });
  }

  // ---------------------------------------------------------------- drain, metrics, health

  async drain(
    opts: { timeoutMs?: number } = {},
  ): Promise<{ handled: number; dead: number; remaining: number }> {
    if (this.state === "idle") await this.start();
    if (!this.accepting)
      throw new CutoverError("CONSUMER_STATE", `cannot drain a consumer that is ${this.state}`);
    const before = this.recorder.snapshot(0);
    const deadline = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
    this.draining++;
    this.heartbeat?.trigger();
    let remaining = -1;
    try {
      while (this.accepting) {
        this.wake();
        await this.waitIdle(this.stopping.signal);
        const params: unknown[] = [this.generation];
        if (this.topics) params.push(this.topics.exact, this.topics.likes);
        try {
          const { rows } = await this.pool!.query<{ n: number }>(this.sql.remaining, params);
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
      if (this.accepting) await this.beat().catch(() => {});
    }
    const after = this.recorder.snapshot(0);
    return {
      handled: after.handled.total - before.handled.total,
      dead: after.dead.total - before.dead.total,
      remaining: Math.max(remaining, 0),
    };
  }

  metrics(): ConsumerMetrics {
    return this.recorder.snapshot(this.inFlight.size);
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
    return {
      state,
      database: { ok: this.dbOk, ...(this.dbError ? { lastError: this.dbError } : {}) },
      listen: {
        ok: listenOk,
        connected: l?.connected ?? false,
        enabled: this.o.listen,
        ...(l?.lastNotificationAt ? { lastNotificationAt: l.lastNotificationAt } : {}),
      },
      heartbeat: {
        ok:
          this.heartbeatOk &&
          this.lastBeatAt !== null &&
          Date.now() - this.lastBeatAt.getTime() < this.o.staleAfterMs,
        lastBeatAt: this.lastBeatAt,
      },
      reaper: { lastRunAt: this.lastReaperRunAt, lastReaped: this.lastReaped },
      poller: { lastPollAt: this.lastPollAt },
    };
  }
}

function refOf(e: OutboxEvent) {
  return {
    id: e.id,
    topic: e.topic,
    attempt: e.attempt,
    idempotencyKey: e.idempotencyKey,
    tenant: e.tenant,
    headers: e.headers,
  };
}
