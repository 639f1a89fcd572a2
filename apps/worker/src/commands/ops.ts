import {
  allocateGeneration,
  assertSchemaCurrent,
  listDead,
  migrate,
  outboxStatus,
  retryDead,
} from "@cutover/outbox";
import { opsPool } from "../assemble.js";
import type { WorkerConfig } from "../config.js";
import { redactText } from "../redact.js";
import { duration, oneLine, table } from "./format.js";

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
export async function statusCommand(config: WorkerConfig, json: boolean, io: Io): Promise<number> {
  const pool = opsPool(config, 1);
  try {
    await assertSchemaCurrent(pool, config.schema);
    const s = await outboxStatus(pool, { schema: config.schema, staleAfterMs: config.consumer.staleAfterMs });
    const orphaned = s.generations.filter((g) => g.orphaned).map((g) => g.generation);
    if (json) {
      io.out(`${JSON.stringify({ schema: config.schema, ...s, orphaned }, null, 2)}\n`);
      return 0;
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
    return 0;
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
    await assertSchemaCurrent(pool, config.schema);
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
    await assertSchemaCurrent(pool, config.schema);
    const { requeued } = await retryDead(pool, {
      schema: config.schema,
      ...(opts.all ? { all: true } : { ids: opts.ids }),
      ...(opts.generation === undefined ? {} : { generation: opts.generation }),
      ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }),
    });
    io.out(`requeued ${requeued} dead event(s)\n`);
    if (!opts.all && requeued < opts.ids.length) {
      io.err(
        `${opts.ids.length - requeued} of the given ids were not dead (or do not exist); left untouched\n`,
      );
    }
    return 0;
  } finally {
    await pool.end().catch(() => {});
  }
}
