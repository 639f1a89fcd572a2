import { allocateGeneration, listDead, migrate, outboxStatus, retryDead } from "@cutover/outbox";
import { assertSchemaCurrent, quoteIdent } from "@cutover/outbox/internal";
import { opsPool } from "../assemble.js";
import type { WorkerConfig } from "../config.js";
import { redactText } from "../redact.js";
import { duration, oneLine, table } from "./format.js";

/**
 * Exit codes of the ops commands beyond 0 (success), 1 (failure), 2 (usage or
 * configuration): scripts and cron checks branch on them, so each means one
 * thing. Documented in `outbox-worker --help` and docs/worker.md.
 */
export const EXIT = {
  /**
   * `status` found something wrong: an ORPHANED generation, a STALE worker in a generation with
   * open rows, or more dead events than --max-dead.
   */
  unhealthy: 5,
  /** What the command was asked to act on does not exist: an event id that is not dead (or not there), a generation never allocated. */
  notFound: 6,
} as const;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** `outbox-worker migrate`: advisory-locked, safe from several replicas at once; prints what it applied. */
export async function migrateCommand(config: WorkerConfig, io: Io): Promise<number> {
  io.err(`migrating schema "${config.schema}" ...\n`);
  const { applied } = await migrate({ databaseUrl: config.databaseUrl, schema: config.schema });
  if (applied.length === 0) io.out(`schema "${config.schema}" is up to date\n`);
  else io.out(`applied ${applied.length} migration(s) to schema "${config.schema}": ${applied.join(", ")}\n`);
  return 0;
}

/** `outbox-worker generation allocate --version V`: prints only the number, for deploy scripts. */
export async function allocateCommand(config: WorkerConfig, version: string, io: Io): Promise<number> {
  const pool = opsPool(config, 1);
  try {
    await assertSchemaCurrent(pool, config.schema);
    const d = await allocateGeneration(pool, { schema: config.schema, version });
    io.out(`${d.generation}\n`);
    return 0;
  } finally {
    await pool.end().catch(() => {});
  }
}

/** `outbox-worker status [--json]`: per-generation backlog, workers and their heartbeats, orphaned generations. */
export async function statusCommand(
  config: WorkerConfig,
  opts: { json: boolean; maxDead?: number | undefined },
  io: Io,
): Promise<number> {
  const pool = opsPool(config, 1);
  try {
    await assertSchemaCurrent(pool, config.schema);
    const s = await outboxStatus(pool, { schema: config.schema, staleAfterMs: config.consumer.staleAfterMs });
    const orphaned = s.generations.filter((g) => g.orphaned).map((g) => g.generation);
    // A stale worker matters while its generation has open rows: they may be waiting on a
    // process that is gone. One whose generation is empty is history (a crashed worker's
    // row stays non-exited), and counting it would keep the check red for good.
    const open = new Set(s.generations.filter((g) => g.pending + g.inFlight > 0).map((g) => g.generation));
    const stale = s.workers.filter((w) => w.stale && open.has(w.generation)).map((w) => w.id);
    const dead = s.generations.reduce((n, g) => n + g.dead, 0);
    const problems = [
      ...(orphaned.length > 0 ? [`${orphaned.length} orphaned generation(s): ${orphaned.join(", ")}`] : []),
      ...(stale.length > 0
        ? [`${stale.length} stale worker(s) in generations with open rows: ${stale.join(", ")}`]
        : []),
      ...(opts.maxDead !== undefined && dead > opts.maxDead
        ? [`${dead} dead event(s), more than --max-dead ${opts.maxDead}`]
        : []),
    ];
    const code = problems.length > 0 ? EXIT.unhealthy : 0;
    if (opts.json) {
      io.out(
        `${JSON.stringify({ schema: config.schema, ...s, orphaned, healthy: code === 0, problems }, null, 2)}\n`,
      );
      return code;
    }
    io.out(`GENERATIONS (schema "${config.schema}")\n`);
    io.out(
      `${table(
        ["GEN", "VERSION", "PENDING", "IN-FLIGHT", "DEAD", "DONE", "OLDEST PENDING", "LIVE WORKERS", ""],
        s.generations.map((g) => [
          String(g.generation),
          oneLine(g.version, 24),
          String(g.pending),
          String(g.inFlight),
          String(g.dead),
          String(g.done),
          duration(g.oldestPendingAgeMs),
          String(g.liveWorkers),
          g.orphaned ? "ORPHANED: open rows and no live worker" : "",
        ]),
      )}\n\n`,
    );
    io.out("WORKERS\n");
    io.out(
      `${table(
        ["ID", "GEN", "VERSION", "STATUS", "HOST", "PID", "HEARTBEAT AGE", ""],
        s.workers.map((w) => [
          w.id,
          String(w.generation),
          oneLine(w.version, 24),
          w.status,
          w.host,
          w.pid === null ? "-" : String(w.pid),
          duration(w.heartbeatAgeMs),
          w.stale ? "STALE" : "",
        ]),
      )}\n`,
    );
    if (orphaned.length > 0) {
      io.out(
        `\n${orphaned.length} orphaned generation(s): ${orphaned.join(", ")}. Nothing processes their rows: run a worker or \`outbox-worker drain\` with that generation's code (see docs/operations.md).\n`,
      );
    }
    if (code !== 0) io.err(`unhealthy (exit ${code}): ${problems.join("; ")}\n`);
    return code;
  } finally {
    await pool.end().catch(() => {});
  }
}

/** `outbox-worker dead list`: oldest first. */
export async function deadListCommand(
  config: WorkerConfig,
  opts: { generation?: number | undefined; tenant?: string | undefined; limit: number; json: boolean },
  io: Io,
): Promise<number> {
  const pool = opsPool(config, 1);
  try {
    if (!(await readyFor(pool, config.schema, opts.generation, io))) return EXIT.notFound;
    const dead = await listDead(pool, {
      schema: config.schema,
      limit: opts.limit,
      ...(opts.generation === undefined ? {} : { generation: opts.generation }),
      ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }),
    });
    if (opts.json) {
      io.out(
        `${JSON.stringify(
          dead.map((d) => ({ ...d, lastError: d.lastError && redactText(d.lastError) })),
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    if (dead.length === 0) {
      io.out("no dead events\n");
      return 0;
    }
    io.out(
      `${table(
        ["ID", "GEN", "TOPIC", "TENANT", "ATTEMPTS", "DEAD AT", "LAST ERROR"],
        dead.map((d) => [
          d.id,
          String(d.generation),
          d.topic,
          d.tenant === null ? "-" : oneLine(d.tenant, 24),
          String(d.attempts),
          d.deadAt ? d.deadAt.toISOString() : "-",
          oneLine(redactText(d.lastError ?? ""), 80),
        ]),
      )}\n`,
    );
    if (dead.length === opts.limit) io.err(`(showing the first ${opts.limit}; use --limit for more)\n`);
    return 0;
  } finally {
    await pool.end().catch(() => {});
  }
}

/** `outbox-worker dead retry <id...> | --all | --tenant T`: re-queues dead events in their own generation. */
export async function deadRetryCommand(
  config: WorkerConfig,
  opts: { ids: string[]; all: boolean; generation?: number | undefined; tenant?: string | undefined },
  io: Io,
): Promise<number> {
  const pool = opsPool(config, 1);
  try {
    if (!(await readyFor(pool, config.schema, opts.generation, io))) return EXIT.notFound;
    const { requeued } = await retryDead(pool, {
      schema: config.schema,
      ...(opts.all ? { all: true } : { ids: opts.ids }),
      ...(opts.generation === undefined ? {} : { generation: opts.generation }),
      ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }),
    });
    io.out(`requeued ${requeued} dead event(s)\n`);
    const asked = new Set(opts.ids).size;
    if (!opts.all && requeued < asked) {
      io.err(`${asked - requeued} of the given ids were not dead (or do not exist); left untouched\n`);
      return EXIT.notFound;
    }
    return 0;
  } finally {
    await pool.end().catch(() => {});
  }
}

/** Whether `generation` was ever allocated (has a deployments row). */
/**
 * The schema is current (else throws the not-migrated error) and, when a
 * generation is named, it was allocated; false (after saying so) when not.
 */
async function readyFor(
  pool: ReturnType<typeof opsPool>,
  schema: string,
  generation: number | undefined,
  io: Io,
): Promise<boolean> {
  await assertSchemaCurrent(pool, schema);
  if (generation === undefined) return true;
  const { rows } = await pool.query(`SELECT 1 FROM ${quoteIdent(schema)}.deployments WHERE generation = $1`, [
    generation,
  ]);
  if (rows.length > 0) return true;
  io.err(`generation ${generation} was never allocated\n`);
  return false;
}
