/**
 * One chaos scenario's rig: a fresh database on the file's private server, a
 * proxy in front of it, publisher and worker processes, their histories and
 * logs in a temp dir, the checker, and the scoreboard entry.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { check, type Report, recoveryMs, waitSettled } from "./checker.js";
import { type ChaosDatabase, createChaosDatabase, type Server } from "./cluster.js";
import { type Proc, spawnPublisher, spawnWorker, type Tuning, workerCli, workerKind } from "./procs.js";
import { type ChaosProxy, startProxy } from "./proxy.js";
import { scale } from "./scale.js";
import { recordResult, type ScoreEntry } from "./scoreboard.js";

export type Route = "direct" | "proxy";

export class Rig {
  readonly dir: string;
  readonly historyDir: string;
  readonly logDir: string;
  readonly publishers: Proc[] = [];
  readonly workers = new Map<string, Proc>();
  readonly startedAt = Date.now();
  private pubSeq = 0;

  private constructor(
    readonly label: string,
    readonly server: Server,
    readonly db: ChaosDatabase,
    readonly proxy: ChaosProxy,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `cutover-chaos-${label}-`));
    this.historyDir = join(this.dir, "history");
    this.logDir = join(this.dir, "logs");
    mkdirSync(this.historyDir);
  }

  static async create(label: string, server: Server): Promise<Rig> {
    const db = await createChaosDatabase(server, label);
    const proxy = await startProxy({ port: server.port });
    return new Rig(label, server, db, proxy);
  }

  url(route: Route): string {
    return route === "proxy" ? this.proxy.url(this.db.url) : this.db.url;
  }

  async startPublishers(
    n: number,
    opts: {
      generation: number;
      route?: Route;
      /** Overrides route: publish through this URL (e.g. a PgBouncer in front of the rig's database). */
      databaseUrl?: string;
      rate?: number;
      topics?: string;
      rollbackRatio?: number;
      prepared?: boolean;
      batch?: number;
      /** Publisher id suffix, e.g. "b" for batch publishers: g1b0, g1b1, ... */
      kind?: string;
    },
  ): Promise<Proc[]> {
    const started: Proc[] = [];
    for (let i = 0; i < n; i++) {
      const id = `g${opts.generation}${opts.kind ?? "p"}${this.pubSeq++}`;
      const p = spawnPublisher(
        {
          id,
          generation: opts.generation,
          databaseUrl: opts.databaseUrl ?? this.url(opts.route ?? "direct"),
          history: join(this.historyDir, `${id}.jsonl`),
          rate: opts.rate ?? scale.rate,
          ...(opts.topics ? { topics: opts.topics } : {}),
          ...(opts.rollbackRatio !== undefined ? { rollbackRatio: opts.rollbackRatio } : {}),
          ...(opts.prepared !== undefined ? { prepared: opts.prepared } : {}),
          ...(opts.batch !== undefined ? { batch: opts.batch } : {}),
        },
        this.logDir,
      );
      this.publishers.push(p);
      started.push(p);
    }
    await Promise.all(started.map((p) => p.waitFor("started")));
    return started;
  }

  /** SIGTERM publishers (all, or those of one generation); each finishes its current attempt. */
  async stopPublishers(generation?: number): Promise<void> {
    const which = this.publishers.filter(
      (p) => generation === undefined || new RegExp(`^publisher-g${generation}[a-z]`).test(p.name),
    );
    await Promise.all(which.map((p) => p.stop()));
  }

  /** Starts a worker process and waits until its workers row says running (unless wait: false). */
  async startWorker(
    id: string,
    generation: number,
    opts: {
      route?: Route;
      env?: Record<string, string>;
      tuning?: Tuning;
      wait?: boolean;
      drain?: boolean;
    } = {},
  ): Promise<Proc> {
    this.workers.get(id)?.signal("SIGKILL");
    const w = spawnWorker(
      {
        id,
        generation,
        databaseUrl: this.url(opts.route ?? "direct"),
        env: { ...scale.workerEnv, ...opts.env },
        ...(opts.tuning ? { tuning: opts.tuning } : {}),
        ...(opts.drain ? { drain: true } : {}),
      },
      this.logDir,
    );
    this.workers.set(id, w);
    if (opts.wait !== false) {
      await until(
        async () => {
          if (!w.alive) throw new Error(`worker ${id} exited while starting:\n${w.output().slice(-3000)}`);
          const { rows } = await this.db.pool.query<{ status: string }>(
            "SELECT status FROM cutover.workers WHERE id = $1",
            [id],
          );
          return rows[0]?.status === "running";
        },
        60_000,
        `worker ${id} to run`,
      );
    }
    return w;
  }

  /**
   * Runs an `outbox-worker` ops subcommand (the operator path) and returns its
   * stdout; throws with its output unless it exits with `expectExit` (0 by
   * default; `status` exits 5 when it reports an ORPHANED generation).
   */
  ops(args: string[], env: Record<string, string> = {}, expectExit = 0): string {
    let out: string;
    try {
      out = execFileSync(process.execPath, [workerCli, ...args], {
        env: { ...process.env, DATABASE_URL: this.db.url, LOG_LEVEL: "warn", ...env },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 180_000,
      });
    } catch (err) {
      const e = err as { status?: number; stdout?: string; stderr?: string };
      if (e.status === expectExit && expectExit !== 0) return e.stdout ?? "";
      throw new Error(`outbox-worker ${args.join(" ")} exited ${e.status}:\n${e.stdout}\n${e.stderr}`);
    }
    if (expectExit !== 0)
      throw new Error(`outbox-worker ${args.join(" ")} exited 0, expected ${expectExit}:\n${out}`);
    return out;
  }

  /** `outbox-worker generation allocate --version V` (the library call when the CLI is not built). */
  async allocate(version: string): Promise<number> {
    if (workerKind !== "cli") return this.db.allocate(version);
    const out = this.ops(["generation", "allocate", "--version", version]).trim();
    const gen = Number(out.split("\n").pop());
    if (!Number.isInteger(gen) || gen < 1)
      throw new Error(`generation allocate printed ${JSON.stringify(out)}`);
    return gen;
  }

  worker(id: string): Proc {
    const w = this.workers.get(id);
    if (!w) throw new Error(`no worker ${id}`);
    return w;
  }

  /** Waits until nothing is pending or in flight, then runs the checker. */
  async settleAndCheck(timeoutMs = scale.settleMs): Promise<Report & { settled: boolean }> {
    const settled = await waitSettled(this.db.pool, timeoutMs);
    return { ...(await check(this.db.pool, this.historyDir)), settled };
  }

  recovery(healedAt: Date): Promise<number> {
    return recoveryMs(this.db.pool, healedAt);
  }

  /** Records the scenario's line of the scoreboard and prints it. */
  score(scenario: string, report: Report, extra: Partial<ScoreEntry> = {}): void {
    const entry: ScoreEntry = {
      scenario,
      scale: scale.name,
      published: report.published,
      committed: report.committed,
      rolledBack: report.rolledBack,
      unknown: report.unknown,
      unknownCommitted: report.unknownCommitted,
      handled: report.handled,
      done: report.done,
      dead: report.dead,
      lost: report.lost,
      duplicatedEffects: report.duplicatedEffects,
      crossGeneration: report.crossGeneration,
      fencingViolations: report.fencingViolations,
      recoveryMs: null,
      durationS: Math.round((Date.now() - this.startedAt) / 1000),
      ...extra,
    };
    recordResult(entry);
    process.stdout.write(`[chaos] ${scenario}: ${JSON.stringify(entry)}\n`);
    if (report.violations.length)
      process.stdout.write(`[chaos] violations:\n  ${report.violations.join("\n  ")}\n`);
  }

  async close(): Promise<void> {
    await Promise.all([...this.publishers, ...this.workers.values()].map((p) => p.stop(5000)));
    await this.proxy.close();
    await this.db.drop().catch(() => {});
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until truthy. */
export async function until(
  fn: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  what = "condition",
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
