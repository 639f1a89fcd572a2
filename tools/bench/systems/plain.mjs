// The Node-side limit for publishing: a plain multi-row INSERT of the same
// rows (same table, same columns, same unique index) through `pg`, with no
// validation, no JSON document and no NOTIFY. Issue 2's goal: Cutover's batch
// publish within 1.3x of this.
import { randomUUID } from "node:crypto";
import { TOPIC } from "../lib/payload.mjs";
import { setup as cutoverSetup, SCHEMA } from "./cutover.mjs";

export const name = "plain";
export const label = "plain INSERT (pg)";

export function version() {
  return "pg";
}

export async function setup(url, pool) {
  return cutoverSetup(url, pool);
}

export async function insert(ctx, client, payloads) {
  const values = [ctx.generation, TOPIC];
  const rows = [];
  for (const p of payloads) {
    values.push(JSON.stringify(p), randomUUID());
    rows.push(`($1, $2, $${values.length - 1}, $${values.length})`);
  }
  await client.query(
    `INSERT INTO ${SCHEMA}.outbox (generation, topic, payload, idempotency_key) VALUES ${rows.join(", ")}`,
    values,
  );
}

export async function teardown() {}
