// Small statistics and a clock shared by parent and worker processes:
// process.hrtime is CLOCK_MONOTONIC on Linux, the same clock in every process
// on the machine, so a commit time taken in the parent and a handler-start
// time taken in a worker child subtract meaningfully.

/** Milliseconds on the machine-wide monotonic clock. */
export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function median(values) {
  const v = values.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(values, p) {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const rank = Math.min(v.length, Math.max(1, Math.ceil((p / 100) * v.length)));
  return v[rank - 1];
}

export function latencySummary(samples) {
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples.length ? Math.max(...samples) : undefined,
  };
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `fn(i)` for i in [0, n) with at most `clients` in flight. */
export async function parallel(n, clients, fn) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(clients, n) }, async (_, lane) => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      await fn(i, lane);
    }
  });
  await Promise.all(lanes);
}
