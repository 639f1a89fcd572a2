// graphile-worker 0.16 (the newest line that runs on Node 20): add_job /
// add_jobs called in the caller's transaction (the documented way to enqueue
// atomically with a business write); runner with `concurrency`. No
// exactly-once bookkeeping: a job is deleted when its task resolves.
import { createRequire } from "node:module";
import { Logger, run, runMigrations } from "graphile-worker";

const require = createRequire(import.meta.url);
const silent = new Logger(() => () => {});

export const name = "graphile";
export const label = "graphile-worker";
export const DEFAULT_TUNING = { concurrency: 24 };

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
  const opts = { ...DEFAULT_TUNING, ...tuning };
  let runner;
  return {
    async start() {
      runner = await run({
        connectionString: url,
        concurrency: opts.concurrency,
        ...(opts.maxPoolSize ? { maxPoolSize: opts.maxPoolSize } : {}),
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
