// Cutover's publisher with `notify: false`: the same validated one-statement
// publish without the NOTIFY. Enqueue only; it shows, in the same run, what
// the in-transaction NOTIFY costs (Postgres commits notifying transactions
// one at a time), which is the gap to the plain INSERT.
import * as outbox from "../../../packages/outbox/dist/index.js";
import {
  insert as cutoverInsert,
  setup as cutoverSetup,
  events,
  remainingQuery,
  SCHEMA,
} from "./cutover.mjs";

export const name = "cutoverQuiet";
export const label = "Cutover, notify: false";

export function version() {
  return "workspace (packages/outbox)";
}

export async function setup(url, pool) {
  const ctx = await cutoverSetup(url, pool);
  const publisher = await outbox.createPublisher({
    events,
    db: pool,
    generation: ctx.generation,
    schema: SCHEMA,
    notify: false,
  });
  return { ...ctx, publisher };
}

export const insert = cutoverInsert;
export { remainingQuery };

export async function teardown() {}
