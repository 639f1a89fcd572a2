// The plain-SQL limit: pgbench (no Node) doing the same per-event database
// work as Cutover, perfectly batched, on Cutover's own tables and indexes.
//   enqueue:   INSERT of the same rows (one per transaction, or a batch per
//              statement built with generate_series)
//   burn-down: per batch, one claim transaction (UPDATE ... FOR UPDATE SKIP
//              LOCKED -> in_flight) then one transaction that inserts the
//              event_handled rows and marks the batch done.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { HANDLER, TOPIC } from "../lib/payload.mjs";
import { setup as cutoverSetup, SCHEMA } from "./cutover.mjs";

export const name = "limit";
export const label = "plain-SQL limit (pgbench)";

export async function setup(url, pool) {
  return cutoverSetup(url, pool);
}

const PAYLOAD_SQL = `jsonb_build_object('seq', g, 'orderId', 'ord-' || g, 'amount', 4200, 'currency', 'EUR')`;

function enqueueScript(batch) {
  if (batch === 1) {
    return `BEGIN;
INSERT INTO ${SCHEMA}.outbox (generation, topic, payload, idempotency_key)
SELECT :gen::int, '${TOPIC}', ${PAYLOAD_SQL}, gen_random_uuid()::text FROM (SELECT 1 AS g) s;
END;
`;
  }
  return `BEGIN;
INSERT INTO ${SCHEMA}.outbox (generation, topic, payload, idempotency_key)
SELECT :gen::int, '${TOPIC}', ${PAYLOAD_SQL}, gen_random_uuid()::text FROM generate_series(1, ${batch}) AS g;
END;
`;
}

function burnScript(batch) {
  return `UPDATE ${SCHEMA}.outbox SET status = 'in_flight', attempts = attempts + 1,
  claimed_by = 'w' || :client_id::text, lease_expires_at = now() + interval '30 seconds'
WHERE id IN (SELECT id FROM ${SCHEMA}.outbox
  WHERE generation = :gen::int AND status = 'pending' AND available_at <= now()
  ORDER BY id LIMIT ${batch} FOR UPDATE SKIP LOCKED);
BEGIN;
INSERT INTO ${SCHEMA}.event_handled (handler_name, idempotency_key, event_id, generation)
SELECT '${HANDLER}', idempotency_key, id, generation FROM ${SCHEMA}.outbox
WHERE generation = :gen::int AND status = 'in_flight' AND claimed_by = 'w' || :client_id::text;
UPDATE ${SCHEMA}.outbox SET status = 'done', processed_at = now(), lease_expires_at = NULL
WHERE generation = :gen::int AND status = 'in_flight' AND claimed_by = 'w' || :client_id::text;
END;
`;
}

function pgbench(url, script, { clients, transactions, gen }) {
  const dir = mkdtempSync(join(tmpdir(), "cutover-pgbench-"));
  const file = join(dir, "script.sql");
  writeFileSync(file, script);
  const args = [
    "-n",
    "-M",
    "prepared",
    "-c",
    String(clients),
    "-j",
    String(Math.min(clients, 2)),
    "-t",
    String(transactions),
    "-D",
    `gen=${gen}`,
    "-f",
    file,
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("pgbench", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      rmSync(dir, { recursive: true, force: true });
      // pgbench output never contains the password; still, keep only its tail.
      if (code === 0) resolve(out);
      else reject(new Error(`pgbench exited ${code}: ${out.slice(-500)}`));
    });
  });
}

/** Enqueue `count` rows in transactions of `batch` from `clients` connections. */
export async function enqueue(ctx, url, { count, batch, clients }) {
  const transactions = Math.ceil(count / batch / clients);
  await pgbench(url, enqueueScript(batch), { clients, transactions, gen: ctx.generation });
  return transactions * clients * batch;
}

/** Fills the outbox with `count` pending rows in one statement (not timed). */
export async function prefill(ctx, url, count) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO ${SCHEMA}.outbox (generation, topic, payload, idempotency_key)
       SELECT $1, '${TOPIC}', ${PAYLOAD_SQL}, 'k' || g FROM generate_series(1, $2::int) AS g`,
      [ctx.generation, count],
    );
  } finally {
    await c.end();
  }
}

/** Burns the backlog down with `clients` pgbench connections; resolves when it is empty. */
export async function burnDown(ctx, url, { count, batch, clients, remaining }) {
  let left = count;
  for (let round = 0; left > 0 && round < 10; round++) {
    const transactions = Math.ceil(left / batch / clients) + 1;
    await pgbench(url, burnScript(batch), { clients, transactions, gen: ctx.generation });
    left = await remaining();
  }
  if (left > 0) throw new Error(`limit burn-down left ${left} rows`);
}
