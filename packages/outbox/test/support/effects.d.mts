/** Inserts the effect of `handler` for `event` through `tx` (a handler's ctx.tx). */
export function recordEffect(
  tx: { query(text: string, values: unknown[]): Promise<unknown> },
  handler: string,
  event: { id: string; generation: number },
  extra?: { worker?: string; key?: string },
): Promise<unknown>;
