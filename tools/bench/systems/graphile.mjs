// graphile-worker 0.17 (0.18 needs Node >= 22.18; 0.17.x is the newest line
// that runs on all of Cutover's Node lines): add_job / add_jobs called in the
// caller's transaction (the documented way to enqueue atomically with a
// business write). No exactly-once bookkeeping: a job is deleted when its
// task resolves.
//
// Configured as its docs recommend for throughput (docs/performance,
// "batching"): concurrentJobs 24, a pool of concurrentJobs + 1, a local queue
// of 500 jobs fetched per round trip, and job completions and failures
// batched (completeJobBatchDelay / failJobBatchDelay 0: flushed on the next
// tick). graphile-default.mjs runs the same code with the library defaults.
import { createRequire } from "node:module";
import { Logger, run, runMigrations } from "graphile-worker";

const require = createRequire(import.meta.url);
const silent = new Logger(() => () => {});

export const name = "graphile";
export const label = "graphile-worker";
export const DEFAULT_TUNING = {
  concurrency: 24,
  maxPoolSize: 25,
  localQueueSize: 500,
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
};

export function version() {
  return require("graphile-worker/package.json").version;
}

export async function setup(url) {
  await runMigrations({ connectionString: url, logger: silent });
  return { workerConfig: {} };
}

export async function insert(_ctx, client, payloads) {
  if (payloads.length === 1) {
    await client.query("SELECT graphile_worker.add_job('bench', $1::json)", [JSON.stringify(payloads[0])]);
  } else {
    await client.query(
      `SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
         SELECT ROW('bench', x, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec
         FROM json_array_elements($1::json) AS x))`,
      [JSON.stringify(payloads)],
    );
  }
}

export function remainingQuery() {
  return { text: "SELECT count(*)::int AS n FROM graphile_worker._private_jobs", values: [] };
}

export async function teardown() {}

export async function createWorker(url, _config, tuning, onHandle) {
  return createGraphileWorker(url, { ...DEFAULT_TUNING, ...tuning }, onHandle);
}

/** A runner with `opts` (concurrency, maxPoolSize, localQueueSize, *BatchDelay; absent = library default). */
export async function createGraphileWorker(url, opts, onHandle) {
  const worker = {};
  if (opts.localQueueSize !== undefined) worker.localQueue = { size: opts.localQueueSize };
  if (opts.completeJobBatchDelay !== undefined) worker.completeJobBatchDelay = opts.completeJobBatchDelay;
  if (opts.failJobBatchDelay !== undefined) worker.failJobBatchDelay = opts.failJobBatchDelay;
  let runner;
  return {
    async start() {
      runner = await run({
        connectionString: url,
        ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
        ...(opts.maxPoolSize !== undefined ? { maxPoolSize: opts.maxPoolSize } : {}),
        ...(Object.keys(worker).length ? { preset: { worker } } : {}),
        noHandleSignals: true,
        pollInterval: 2000,
        logger: silent,
        taskList: {
          bench: async (payload) => {
            onHandle(payload.seq);
          },
        },
      });
    },
    async stop() {
      await runner?.stop();
    },
  };
}
