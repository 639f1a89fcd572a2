/**
 * The pruner: every retention.intervalMs, deletes what the retention says is
 * old (done rows, their event_handled keys, exited workers rows) in small
 * SKIP LOCKED batches (prune.ts), stopping early once the consumer stops.
 */
import type pg from "pg";
import { toQueryable } from "../../db.js";
import { Loop } from "../loop.js";
import type { ResolvedOptions } from "../options.js";
import { pruneBatches } from "../prune.js";

export function prunerLoop(d: {
  pool: pg.Pool;
  schema: string;
  retention: ResolvedOptions["retention"];
  signal: AbortSignal;
  onError(err: unknown, loop: string): void;
}): Loop {
  const r = d.retention;
  return new Loop(
    "pruner",
    r.intervalMs,
    async () => {
      await pruneBatches(toQueryable(d.pool, "pruner"), {
        schema: d.schema,
        doneOlderThanMs: r.doneAfterMs,
        handledOlderThanMs: r.handledAfterMs,
        exitedWorkersOlderThanMs: r.exitedWorkersAfterMs,
        batchSize: r.batchSize,
        signal: d.signal,
      });
    },
    d.onError,
  );
}
