import type { HandlerContext, Logger, OutboxEvent } from "@cutover/outbox";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** An in-memory log sink with the library's Logger shape. */
export function memoryLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine["level"]) => (obj: Record<string, unknown>, msg?: string) => {
    lines.push({ level, obj: JSON.parse(JSON.stringify(obj)), msg });
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export function testEvent(
  n: number,
  opts: { run: string; topic?: string; generation?: number; orderingKey?: string | null; attempt?: number },
): OutboxEvent<{ n: number }> {
  return {
    id: String(1000 + n),
    topic: opts.topic ?? "order.placed",
    payload: { n },
    headers: { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` },
    idempotencyKey: `${opts.run}-${n}`,
    orderingKey: opts.orderingKey ?? null,
    tenant: null,
    generation: opts.generation ?? 1,
    attempt: opts.attempt ?? 1,
    createdAt: new Date("2026-01-02T03:04:05.000Z"),
  };
}

/**
 * The context a relay gets from the consumer. Relays never use `tx` (their
 * effect is outside Postgres), so direct handle() tests give none; the
 * consumer tests run them with the real one.
 */
export function testCtx(signal: AbortSignal = new AbortController().signal): HandlerContext {
  return { tx: undefined as never, signal, workerId: "test-worker", logger: memoryLogger() };
}
