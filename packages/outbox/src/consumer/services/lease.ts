/**
 * The lease extender: every leaseMs/3, pushes the lease of every row this
 * worker holds (fenced: still in flight, mine, of my generation), so a live
 * worker's rows are never reaped however long its handlers run.
 */
import type pg from "pg";
import { Loop } from "../loop.js";
import type { Statements } from "../sql.js";

export function leaseLoop(d: {
  pool: pg.Pool;
  sql: Statements;
  generation: number;
  workerId: string;
  leaseMs: number;
  /** The ids of the rows held now. */
  held: ReadonlyMap<string, unknown>;
  onError(err: unknown, loop: string): void;
}): Loop {
  return new Loop(
    "lease",
    Math.max(50, Math.floor(d.leaseMs / 3)),
    async () => {
      if (d.held.size === 0) return;
      await d.pool.query(d.sql.extendLeases, [[...d.held.keys()], d.generation, d.workerId, d.leaseMs]);
    },
    d.onError,
  );
}
