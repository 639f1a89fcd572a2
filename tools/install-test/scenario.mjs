// Runs inside the scratch project, against the installed tarballs only:
// migrate, allocate a generation, publish in a transaction (a pg client and a
// kysely transaction; a rolled-back publish and an invalid payload write
// nothing), consume with a handler, stop. Exit 0 when every step held.
import assert from "node:assert/strict";
import {
  allocateGeneration,
  createConsumer,
  createPublisher,
  defineEvents,
  defineHandler,
  migrate,
  migrationFiles,
  PayloadValidationError,
} from "@cutover/outbox";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { z } from "zod";

const databaseUrl = process.env.DATABASE_URL;
assert.ok(databaseUrl, "DATABASE_URL is not set");
const step = (s) => process.stdout.write(`[scenario] ${s}\n`);

const events = defineEvents({ "order.placed": z.object({ orderId: z.string() }) });

const { applied } = await migrate({ databaseUrl });
assert.equal(applied.length, migrationFiles().length, "migrate() applied every shipped migration");
assert.deepEqual((await migrate({ databaseUrl })).applied, [], "a second migrate() applies nothing");
step(`migrate(): applied ${applied.length} migrations from the installed package`);

const pool = new pg.Pool({ connectionString: databaseUrl });
await pool.query("CREATE TABLE public.orders (id text PRIMARY KEY)");
await pool.query("CREATE TABLE public.handled (order_id text PRIMARY KEY)");
const { generation } = await allocateGeneration(pool, { version: "install-test" });
step(`allocated generation ${generation}`);

const publisher = await createPublisher({ events, db: pool, generation });
async function inTransaction(fn, commit = true) {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await fn(client);
    await client.query(commit ? "COMMIT" : "ROLLBACK");
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  } finally {
    client.release();
  }
}
await inTransaction(async (c) => {
  await c.query("INSERT INTO orders (id) VALUES ($1)", ["o-1"]);
  await publisher.publish(c, "order.placed", { orderId: "o-1" });
});
await inTransaction(async (c) => {
  await c.query("INSERT INTO orders (id) VALUES ($1)", ["o-rolled-back"]);
  await publisher.publish(c, "order.placed", { orderId: "o-rolled-back" });
}, false);
await assert.rejects(
  inTransaction((c) => publisher.publish(c, "order.placed", { orderId: 42 })),
  (err) => err instanceof PayloadValidationError,
  "an invalid payload is a PayloadValidationError",
);
const kysely = new Kysely({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl }) }),
});
await kysely.transaction().execute(async (trx) => {
  await publisher.publish(trx, "order.placed", { orderId: "o-2" });
});
await kysely.destroy();
const stored = await pool.query("SELECT payload->>'orderId' AS id FROM cutover.outbox ORDER BY id");
assert.deepEqual(
  stored.rows.map((r) => r.id),
  ["o-1", "o-2"],
  "committed publishes stored (pg client and kysely), the rolled-back one not",
);
step("published in a pg transaction and a kysely transaction; rollback and invalid payload wrote nothing");

const consumer = createConsumer({
  databaseUrl,
  events,
  generation,
  pollIntervalMs: 100,
  handlers: [
    defineHandler(events, {
      name: "install-test.record",
      topics: ["order.placed"],
      async handle(event, { tx }) {
        await tx.query("INSERT INTO public.handled (order_id) VALUES ($1)", [event.payload.orderId]);
      },
    }),
  ],
});
await consumer.start();
const deadline = Date.now() + 30_000;
for (;;) {
  // Completed: nothing open, and both recorded in event_handled (the default
  // completion deletes the rows; with completion "keep" they stay done).
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM cutover.outbox WHERE status IN ('pending', 'in_flight'))::int AS open,
            (SELECT count(*) FROM cutover.event_handled)::int AS n`,
  );
  if (rows[0].open === 0 && rows[0].n === 2) break;
  if (Date.now() > deadline)
    throw new Error(`consumer did not finish 2 events in 30 s (handled: ${rows[0].n})`);
  await new Promise((r) => setTimeout(r, 100));
}
await consumer.stop();
const handled = await pool.query("SELECT order_id FROM handled ORDER BY order_id");
assert.deepEqual(
  handled.rows.map((r) => r.order_id),
  ["o-1", "o-2"],
);
step("consumed both events with the handler (each once), stopped");
await pool.end();

// The worker's subpath resolves from the installed package (types and code),
// and what it holds stays out of the public index.
const outbox = await import("@cutover/outbox");
const internal = await import("@cutover/outbox/internal");
assert.equal(typeof internal.quoteIdent, "function", "@cutover/outbox/internal exports quoteIdent");
assert.ok(!("quoteIdent" in outbox), "the public index does not export internals");
step("@cutover/outbox/internal resolves; the public index keeps internals out");
