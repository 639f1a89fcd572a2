/**
 * Running one handler: its context (ctx.tx through the chunk's savepoint
 * scope, ctx.signal, ctx.logger), its deadline on the chunk's one timer, and
 * what happens when it does not stop: aborted, then its query cancelled,
 * then its backend terminated (StuckHandler) or the run abandoned.
 */

import {
  type HandlerContext,
  type HandlerDefinition,
  isPermanentError,
  type OutboxEvent,
} from "../../handler.js";
import { childLogger, type Logger } from "../../logger.js";
import { type ProcessSpan, startProcessSpan } from "../../telemetry.js";
import { HANDLER_GRACE_MS } from "../bounds.js";
import type { ChunkEnv } from "./chunk.js";
import { message } from "./outcomes.js";
import { type ChunkState, drainAhead, TxScope, transactionStatus } from "./scope.js";

export class StuckHandler extends Error {
  constructor(
    readonly handler: string,
    readonly eventId: string,
    readonly reason: string,
  ) {
    super(`handler "${handler}" ${reason} and did not stop; its connection was terminated`);
  }
}

export type RunResult =
  | { ok: true; took: boolean }
  | { ok: false; took: boolean; error: string; permanent: boolean; interrupted: boolean };

function settleWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * One timer per chunk, not per handler run: it is re-armed only when it
 * fires before the current run's deadline or a run's deadline is earlier
 * than the armed one.
 */
function arm(state: ChunkState, deadline: number): void {
  // An eager run has no deadline until its insert answered.
  if (!Number.isFinite(deadline)) return;
  if (state.timer !== undefined && state.timerAt <= deadline) return;
  clearTimeout(state.timer);
  state.timerAt = deadline;
  state.timer = setTimeout(() => fire(state), Math.max(0, Math.ceil(deadline - performance.now())));
}

function fire(state: ChunkState): void {
  state.timer = undefined;
  const run = state.current;
  if (!run) return;
  if (run.deadline <= performance.now()) run.interrupt("timeout");
  else arm(state, run.deadline);
}

/** One handler run inside its `process <topic>` span (telemetry.ts), ended with the run's result. */
export async function runHandler(
  env: ChunkEnv,
  state: ChunkState,
  handler: HandlerDefinition,
  event: OutboxEvent,
  deadlineFrom?: Promise<unknown>,
): Promise<RunResult> {
  const span = startProcessSpan(event, handler.name);
  try {
    const result = await runHandlerIn(span, env, state, handler, event, deadlineFrom);
    if (!result.ok) {
      span.end(result.error);
    } else if (result.took) {
      // The caller fails a run that returned but left its transaction failed;
      // its span says so too. Same wait and check as the caller's, done first.
      await drainAhead(state);
      const failed = (await transactionStatus(state.client)) === "E";
      span.end(failed ? "returned but left its transaction failed (a statement of it failed)" : undefined);
    } else {
      span.end();
    }
    return result;
  } catch (err) {
    span.end(message(err));
    throw err;
  }
}

/** The fields of a handler's ctx.logger: what joins its lines to the event, its trace and its tenant. */
function logBindings(span: ProcessSpan, handler: string, event: OutboxEvent): Record<string, unknown> {
  const b: Record<string, unknown> = {
    event_id: event.id,
    topic: event.topic,
    generation: event.generation,
    handler,
    attempt: event.attempt,
  };
  if (span.ids) {
    b.trace_id = span.ids.trace_id;
    b.span_id = span.ids.span_id;
  }
  if (event.tenant !== null) b.tenant = event.tenant;
  return b;
}

/** Runs the handler under its deadline; an interrupted run is stopped by `stopInterrupted`. */
async function runHandlerIn(
  span: ProcessSpan,
  env: ChunkEnv,
  state: ChunkState,
  handler: HandlerDefinition,
  event: OutboxEvent,
  deadlineFrom?: Promise<unknown>,
): Promise<RunResult> {
  const timeoutMs = handler.timeoutMs ?? env.handlerTimeoutMs;
  const scope = new TxScope(state, handler.name);
  const run = newRun(span, env, scope, handler, event);
  let interrupt!: (why: "timeout" | "forced") => void;
  const interrupted = new Promise<"timeout" | "forced">((resolve) => {
    interrupt = resolve;
  });
  const current = {
    deadline: deadlineFrom ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs,
    interrupt,
  };
  state.current = current;
  if (deadlineFrom) {
    const start = () => {
      if (state.current !== current) return;
      current.deadline = performance.now() + timeoutMs;
      arm(state, current.deadline);
    };
    deadlineFrom.then(start, start);
  } else {
    arm(state, current.deadline);
  }
  if (env.forced.aborted) interrupt("forced");
  const started = performance.now();
  const running = span.run(async () => handler.handle(event, run.ctx));
  try {
    const first = await Promise.race([
      running.then(
        () => ({ kind: "ok" as const }),
        (error: unknown) => ({ kind: "error" as const, error }),
      ),
      interrupted.then((why) => ({ kind: why })),
    ]);
    if (first.kind === "ok") return { ok: true, took: scope.took };
    if (first.kind === "error") {
      return {
        ok: false,
        took: scope.took,
        error: message(first.error),
        permanent: isPermanentError(first.error),
        interrupted: env.forced.aborted,
      };
    }
    state.current = null;
    const reason =
      first.kind === "timeout" ? `timed out after ${timeoutMs} ms` : "was aborted by a forced shutdown";
    run.abort(new Error(`handler ${reason}`));
    return await stopInterrupted(env, state, scope, running, { handler, event, reason, why: first.kind });
  } finally {
    if (state.current === current) state.current = null;
    scope.revoked = true;
    env.metrics.duration(performance.now() - started);
  }
}

/** A run's context; ctx.signal's AbortController and ctx.logger are built only when read. */
function newRun(
  span: ProcessSpan,
  env: ChunkEnv,
  scope: TxScope,
  handler: HandlerDefinition,
  event: OutboxEvent,
): { ctx: HandlerContext; abort(reason: Error): void } {
  let ac: AbortController | undefined;
  let abortReason: Error | undefined;
  let logger: Logger | undefined;
  const ctx: HandlerContext = {
    tx: scope.tx,
    get signal() {
      if (!ac) {
        ac = new AbortController();
        if (abortReason) ac.abort(abortReason);
      }
      return ac.signal;
    },
    workerId: env.workerId,
    get logger() {
      logger ??= childLogger(env.logger, logBindings(span, handler.name, event));
      return logger;
    },
  };
  return {
    ctx,
    abort(reason) {
      abortReason = reason;
      ac?.abort(reason);
    },
  };
}

/**
 * A timed-out or force-aborted run: it gets HANDLER_GRACE_MS to settle; then
 * a query it is waiting on is cancelled; a handler still holding a statement
 * has its backend terminated (StuckHandler: the transaction cannot be
 * trusted); one stuck outside the database is abandoned, cut off from ctx.tx.
 */
async function stopInterrupted(
  env: ChunkEnv,
  state: ChunkState,
  scope: TxScope,
  running: Promise<unknown>,
  run: { handler: HandlerDefinition; event: OutboxEvent; reason: string; why: "timeout" | "forced" },
): Promise<RunResult> {
  const { reason } = run;
  const interrupted = run.why === "forced";
  let settled = await settleWithin(running, HANDLER_GRACE_MS);
  if (!settled) {
    // From now on the handler cannot start a statement on this connection.
    scope.revoked = true;
    const pid = (state.client as unknown as { processID?: number }).processID;
    if (scope.busy() && pid) {
      // Waiting on a query in this transaction: cancel it, so the handler
      // fails and the savepoint can be rolled back.
      void env.pool.query("SELECT pg_cancel_backend($1)", [pid]).catch(() => {});
      settled = await settleWithin(running, HANDLER_GRACE_MS);
    }
    if (!settled && scope.busy()) {
      // It still holds a statement on the connection: the transaction
      // cannot be trusted. Terminate its backend so its locks go away.
      if (pid) await settleWithin(env.pool.query("SELECT pg_terminate_backend($1)", [pid]), HANDLER_GRACE_MS);
      throw new StuckHandler(run.handler.name, run.event.id, reason);
    }
    if (!settled) {
      // Stuck outside the database and cut off from it: abandon it; the
      // savepoint is rolled back and the chunk goes on.
      return {
        ok: false,
        took: scope.took,
        error: `handler ${reason} and did not stop; it was abandoned (its ctx.tx is closed)`,
        permanent: false,
        interrupted,
      };
    }
  }
  return { ok: false, took: scope.took, error: `handler ${reason}`, permanent: false, interrupted };
}
