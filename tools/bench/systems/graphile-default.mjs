// graphile-worker 0.17 with its library defaults (concurrency 1, pool of 10,
// no local queue, no completion batching), for readers who run it as
// installed. The main comparison is graphile.mjs, configured as graphile's
// docs recommend for throughput.
import { createGraphileWorker } from "./graphile.mjs";

export { insert, remainingQuery, setup, teardown, version } from "./graphile.mjs";

export const name = "graphileDefault";
export const label = "graphile-worker (library defaults)";
export const DEFAULT_TUNING = {};

export async function createWorker(url, _config, tuning, onHandle) {
  return createGraphileWorker(url, { ...DEFAULT_TUNING, ...tuning }, onHandle);
}
