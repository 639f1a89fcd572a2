// The side effect the consumer tests' handlers write in their run's
// transaction: a row of public.effects (see createEffects), UNIQUE per
// (handler, event), so a double effect fails loudly. Plain JavaScript so that
// a consumer in a child process (fixtures/consumer-child.mjs) writes the same.

/** Inserts the effect of `handler` for `event` through `tx` (a handler's ctx.tx). */
export function recordEffect(tx, handler, event, extra = {}) {
  return tx.query(
    "INSERT INTO public.effects (handler, event_id, generation, worker, key) VALUES ($1, $2, $3, $4, $5)",
    [handler, event.id, event.generation, extra.worker ?? null, extra.key ?? null],
  );
}
