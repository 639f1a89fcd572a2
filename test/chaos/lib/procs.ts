/**
 * Real child processes for the chaos rig: publishers (fixtures/publisher.mjs)
 * and workers (fixtures/worker.mjs: the library's consumer configured like
 * outbox-worker). Output goes to a log file per process, kept for the report.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const fixtures = fileURLToPath(new URL("../fixtures/", import.meta.url));
export const handlersModule = join(fixtures, "handlers.mjs");
export const workerCli = fileURLToPath(new URL("../../../apps/worker/dist/cli.js", import.meta.url));

/**
 * Which worker process the scenarios run: the real `outbox-worker` CLI
 * (default once built) or fixtures/worker.mjs, the library's consumer alone
 * (CHAOS_WORKER=child, or CHAOS_OUTBOX_DIST set: a mutant library), which
 * isolates a failure to the library.
 */
export const workerKind: "cli" | "child" =
  process.env.CHAOS_WORKER === "child" || process.env.CHAOS_OUTBOX_DIST || !existsSync(workerCli)
    ? "child"
    : "cli";

// The rig's test-sized timings, as CHAOS_* (child) and OUTBOX_* (CLI) variables.
const TUNING: Record<string, [string, string]> = {
  concurrency: ["CHAOS_CONCURRENCY", "OUTBOX_CONCURRENCY"],
  batchSize: ["CHAOS_BATCH_SIZE", "OUTBOX_BATCH_SIZE"],
  pollMs: ["CHAOS_POLL_MS", "OUTBOX_POLL_INTERVAL_MS"],
  leaseMs: ["CHAOS_LEASE_MS", "OUTBOX_LEASE_MS"],
  heartbeatMs: ["CHAOS_HEARTBEAT_MS", "OUTBOX_HEARTBEAT_INTERVAL_MS"],
  staleMs: ["CHAOS_STALE_MS", "OUTBOX_STALE_AFTER_MS"],
  reaperMs: ["CHAOS_REAPER_MS", "OUTBOX_REAPER_INTERVAL_MS"],
  maxAttempts: ["CHAOS_MAX_ATTEMPTS", "OUTBOX_MAX_ATTEMPTS"],
  handlerTimeoutMs: ["CHAOS_HANDLER_TIMEOUT_MS", "OUTBOX_HANDLER_TIMEOUT_MS"],
  backoffBaseMs: ["CHAOS_BACKOFF_BASE_MS", "OUTBOX_BACKOFF_BASE_MS"],
  backoffMaxMs: ["CHAOS_BACKOFF_MAX_MS", "OUTBOX_BACKOFF_MAX_MS"],
};

export type Tuning = Partial<Record<keyof typeof TUNING, number>>;

export const DEFAULT_TUNING: Required<Tuning> = {
  concurrency: 2,
  batchSize: 20,
  pollMs: 250,
  leaseMs: 3000,
  heartbeatMs: 300,
  staleMs: 2000,
  reaperMs: 500,
  maxAttempts: 8,
  handlerTimeoutMs: 5000,
  backoffBaseMs: 50,
  backoffMaxMs: 500,
};

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the process printed `line` (e.g. "started"). */
  waitFor(line: string, timeoutMs?: number): Promise<void>;
  output(): string;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
  readonly alive: boolean;
}

function launch(
  name: string,
  script: string,
  env: Record<string, string>,
  logDir: string,
  args: string[] = [],
): Proc {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: "a" });
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const waiters: Array<{ line: string; resolve: () => void }> = [];
  const onData = (d: Buffer) => {
    const s = d.toString();
    log.write(s);
    out = (out + s).slice(-200_000);
    for (const w of [...waiters]) {
      if (out.includes(w.line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  let alive = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      alive = false;
      log.end();
      resolve({ code, signal });
    }),
  );
  return {
    name,
    child,
    exited,
    get alive() {
      return alive;
    },
    output: () => out,
    waitFor(line, timeoutMs = 60_000) {
      if (out.includes(line)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`${name} did not print "${line}" within ${timeoutMs} ms:\n${out.slice(-2000)}`)),
          timeoutMs,
        );
        waiters.push({
          line,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void exited.then(() => {
          if (!out.includes(line)) {
            clearTimeout(timer);
            reject(new Error(`${name} exited before printing "${line}":\n${out.slice(-2000)}`));
          }
        });
      });
    },
    signal(sig) {
      if (alive) child.kill(sig);
    },
    async stop(graceMs = 15_000) {
      if (!alive) return;
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface PublisherSpec {
  id: string;
  generation: number;
  databaseUrl: string;
  history: string;
  rate: number;
  rollbackRatio?: number;
  topics?: string;
  orderingKeys?: number;
  /** false: unnamed statements (publishing through PgBouncer < 1.21 in transaction mode). */
  prepared?: boolean;
  /** Events per transaction (publishBatch when > 1); rate then counts transactions. */
  batch?: number;
}

export function spawnPublisher(spec: PublisherSpec, logDir: string): Proc {
  return launch(
    `publisher-${spec.id}`,
    join(fixtures, "publisher.mjs"),
    {
      PUBLISHER_ID: spec.id,
      GENERATION: String(spec.generation),
      DATABASE_URL: spec.databaseUrl,
      HISTORY: spec.history,
      RATE: String(spec.rate),
      ROLLBACK_RATIO: String(spec.rollbackRatio ?? 0.1),
      TOPICS: spec.topics ?? "chaos.order:1",
      ORDERING_KEYS: String(spec.orderingKeys ?? 0),
      PREPARED: spec.prepared === false ? "0" : "1",
      BATCH: String(spec.batch ?? 1),
    },
    logDir,
  );
}

export interface WorkerSpec {
  /** workers.id; by convention `g<generation>-<name>`. */
  id: string;
  generation: number;
  databaseUrl: string;
  tuning?: Tuning;
  /** Extra environment, e.g. HOLD_MS / CHAOS_BROKEN for the handler module. */
  env?: Record<string, string>;
  /** Run `outbox-worker drain` (process everything of the generation, then exit) instead of `run`. */
  drain?: boolean;
}

export function spawnWorker(spec: WorkerSpec, logDir: string): Proc {
  const tuning = { ...DEFAULT_TUNING, ...spec.tuning };
  const env: Record<string, string> = {
    DATABASE_URL: spec.databaseUrl,
    CUTOVER_GENERATION: String(spec.generation),
    OUTBOX_HANDLERS: handlersModule,
    ...spec.env,
  };
  const k = workerKind === "cli" ? 1 : 0;
  for (const [name, value] of Object.entries(tuning)) env[TUNING[name]![k]] = String(value);
  if (workerKind === "cli") {
    Object.assign(env, {
      OUTBOX_WORKER_ID: spec.id,
      PORT: "0",
      OUTBOX_HTTP_HOST: "127.0.0.1",
      LOG_LEVEL: spec.env?.LOG_LEVEL ?? "warn",
    });
    return launch(`worker-${spec.id}`, workerCli, env, logDir, [spec.drain ? "drain" : "run"]);
  }
  Object.assign(env, { WORKER_ID: spec.id, DRAIN: spec.drain ? "1" : "0" });
  return launch(`worker-${spec.id}`, join(fixtures, "worker.mjs"), env, logDir);
}
