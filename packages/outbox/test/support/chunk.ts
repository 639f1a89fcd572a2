// Running one chunk directly (processChunk) on rows claimed with the
// consumer's own claim statement, for tests of what a chunk does with them.
import type { HandlerDefinition } from "@cutover/outbox";
import type pg from "pg";
import { expect } from "vitest";
import type { ChunkEnv } from "../../src/consumer/chunk/chunk.js";
import { HandlerIndex } from "../../src/consumer/handlers.js";
import { MetricsRecorder } from "../../src/consumer/metrics.js";
import { RetryPolicies } from "../../src/consumer/outcome.js";
import { type ClaimedRow, consumerSql, statements } from "../../src/consumer/sql.js";
import { silentLogger } from "../../src/logger.js";
import { eventStates } from "./completion.js";
import { publisherFor, publishMany } from "./consumer.js";

export const CHUNK_WORKER = "chunk-test";

/** A chunk's environment for `handlers` as worker CHUNK_WORKER: 3 attempts, 10 ms backoff. */
export function chunkEnv(
  pool: pg.Pool,
  generation: number,
  handlers: HandlerDefinition[],
  opts: { handlerTimeoutMs?: number; completion?: "delete" | "keep" } = {},
): ChunkEnv {
  const index = new HandlerIndex(handlers);
  return {
    pool,
    sql: statements(consumerSql("cutover", index.topics), false),
    generation,
    workerId: CHUNK_WORKER,
    completion: opts.completion ?? "delete",
    handlers: index,
    retry: new RetryPolicies({ maxAttempts: 3, backoff: { baseMs: 10, maxMs: 10 } }, index),
    events: undefined,
    handlerTimeoutMs: opts.handlerTimeoutMs ?? 5000,
    sessionMs: 10_000,
    logger: silentLogger,
    forced: new AbortController().signal,
    metrics: new MetricsRecorder(),
  };
}

/**
 * Publishes `n` order.placed events (payload n = 0 .. n-1) and claims them as
 * CHUNK_WORKER with the consumer's claim statement; the rows in id order.
 */
export async function claimRows(pool: pg.Pool, env: ChunkEnv, n: number): Promise<ClaimedRow[]> {
  await publishMany(pool, await publisherFor(pool, env.generation), n);
  const h = env.handlers;
  const { rows } = await pool.query<ClaimedRow>(env.sql.claim, [
    env.generation,
    n,
    CHUNK_WORKER,
    60_000,
    h.eager.topics,
    h.eager.names,
    ...h.filterParams(),
  ]);
  expect(rows).toHaveLength(n);
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * Each event of `generation` in id order: its row's status and attempts, or,
 * for a row a completion deleted, status "completed" (attempts null). A
 * deleted row counts only when an event_handled row names it (the record of
 * its handling): a row that is gone without one is missing from the answer,
 * so a lost event makes the list shorter than what was published.
 */
export async function statusesOf(pool: pg.Pool, generation: number) {
  return (await eventStates(pool, generation)).map(({ status, attempts }) => ({ status, attempts }));
}
