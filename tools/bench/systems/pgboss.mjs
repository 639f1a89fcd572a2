// pg-boss 10 (the newest major that runs on Node 20): send / insert with the
// caller's transaction (`db` option), `work` loops with batchSize (fetch and
// complete a batch per round trip; pg-boss has no LISTEN, it polls, 0.5 s at
// the least). No exactly-once bookkeeping. A work() loop waits out the polling
// interval after every fetch, even a full one (src/worker.js), so throughput
// is capped at loops x batchSize per interval. The tuning below is the best
// of `node tools/bench/run.mjs --only pgboss-sweep` (5 interleaved runs of
// 100,000 on 1 process, 2026-12-06, medians: 4x1000 8,095/s, 8x1000 10,366,
// 16x1000 8,310, 8x2000 13,530, 16x2000 10,861; tools/bench/pgboss-sweep.md):
// doubling the loops again made it slower; a batch above 2,000 was not tried.
// The pool gets a connection per loop.
import { createRequire } from "node:module";
import PgBoss from "pg-boss";

const require = createRequire(import.meta.url);
const QUEUE = "bench";

export const name = "pgboss";
export const label = "pg-boss";
export const DEFAULT_TUNING = { loops: 8, batchSize: 2000, pollingIntervalSeconds: 0.5 };

export function version() {
  return require("pg-boss/package.json").version;
}

function txDb(client) {
  return { executeSql: (text, values) => client.query(text, values) };
}

export async function setup(url) {
  const boss = new PgBoss({ connectionString: url, schedule: false, supervise: false, max: 4 });
  boss.on("error", () => {});
  await boss.start();
  await boss.createQueue(QUEUE);
  return { boss, workerConfig: {} };
}

export async function insert(ctx, client, payloads) {
  const db = txDb(client);
  if (payloads.length === 1) await ctx.boss.send(QUEUE, payloads[0], { db });
  else
    await ctx.boss.insert(
      payloads.map((data) => ({ name: QUEUE, data })),
      { db },
    );
}

export function remainingQuery() {
  return {
    text: "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state < 'completed'",
    values: [QUEUE],
  };
}

export async function teardown(ctx) {
  await ctx.boss.stop({ graceful: false, wait: true });
}

export async function createWorker(url, _config, tuning, onHandle) {
  const opts = { ...DEFAULT_TUNING, ...tuning };
  const boss = new PgBoss({
    connectionString: url,
    schedule: false,
    supervise: false,
    migrate: false,
    max: opts.max ?? Math.max(10, opts.loops + 2),
  });
  boss.on("error", () => {});
  return {
    async start() {
      await boss.start();
      for (let i = 0; i < opts.loops; i++) {
        await boss.work(
          QUEUE,
          { batchSize: opts.batchSize, pollingIntervalSeconds: opts.pollingIntervalSeconds },
          async (jobs) => {
            for (const job of jobs) onHandle(job.data.seq);
          },
        );
      }
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
  };
}
