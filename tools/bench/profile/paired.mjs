#!/usr/bin/env node
// Paired burn-downs of Cutover's consumer built from different trees: the
// same backlog, one worker process (the bench's worker.mjs of each tree, so
// each run loads that tree's packages/outbox/dist), the trees run alternately
// (round r starts with tree r mod n), on one private PostgreSQL.
//
//   node tools/bench/profile/paired.mjs --tree before=/tmp/old-clone --tree after=. --events 50000 --rounds 3
//   ... --prof DIR   also write each run's --cpu-prof file to DIR (profiles slow the worker: compare like with like)
//   node tools/bench/profile/paired.mjs --tree v4=.@v4 --tree v7=.@v7 --events 50000 --rounds 5
//                    one tree, backlogs whose idempotency keys are random UUIDs (v4) or UUIDv7
//                    (publisher.ts's default), inserted 1,000 per statement in key-generation
//                    order as publishBatch would (default @seq: 'k' || seq, in one statement)
//   ... --procs 4    run N worker processes per run instead of one (--procs 'name=4': for that tree only)
//   ... --flags 'name=--max-semi-space-size=4'   V8 flags for that tree's workers instead of the image's
//                    (a worker's stdout, e.g. --trace-gc, goes to stderr)
//   ... --tuning 'name={"batchSize":250}'        consumer options for that tree's workers
//   ... --hogs 'name=2'   during that tree's burns, also run N CPU hogs (node processes that spin
//                    2 ms and sleep 2 ms, about half a core each): the same worker code, more
//                    runnable processes than cores, as N more worker processes would make
//   ... --hogs 'name=2:32' the same hogs, each writing through its own 32 MB buffer while it
//                    spins (cache lines taken from the worker and Postgres, as N more V8 heaps would)
//   ... --hogs 'name=3:js' hogs that run 1 ms of JavaScript allocating objects and JSON (a V8 heap
//                    and JIT code of their own, like a worker) then sleep 4 ms, ~20% of a core each;
//                    'name=3:light' the same duty cycle spinning without allocating
// A tree may be named twice with different flags or tuning (--tree s8=. --tree s4=. --flags 's4=...').
//
// Each tree must be built (`npx tsc -b` in it). The schema and backlog come
// from this tree (the migrations must match). Per run: events/s over the burn
// window (first handler start to nothing pending or in flight), worker CPU
// (all worker processes) and whole-server CPU per event from /proc, 1-minute
// load, peak RSS (VmHWM, the largest of the workers) and the V8 heap /
// off-heap peaks behind it, the claims (empty ones, rows per non-empty one)
// and the claim statement's mean executor time (pg_stat_statements), WAL
// bytes per event (pg_current_wal_lsn over the burn window, whole server), and
// of the workers: context switches (voluntary / involuntary), read+write
// syscalls (/proc/PID/io), run-queue wait per CPU µs (/proc/PID/schedstat) and
// CPU per event of the main thread against the other threads (GC, JIT). Per
// pair: the ratio of each tree to the first one, min/median/max over rounds.
import { fork, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { dropDatabase, settle } from "../lib/server.mjs";
import { median, nowMs, sleep } from "../lib/stats.mjs";
import { imageNodeOptions } from "../lib/workers.mjs";
import {
  backlog,
  freshDatabase,
  load,
  out,
  postmasterPid,
  processCpuMs,
  resetCounters,
  serverCpuMs,
  startProfileServer,
  statementStats,
  trackWorker,
} from "./common.mjs";

const { values: args } = parseArgs({
  options: {
    tree: { type: "string", multiple: true },
    events: { type: "string", default: "50000" },
    rounds: { type: "string", default: "3" },
    prof: { type: "string" },
    procs: { type: "string", multiple: true },
    flags: { type: "string", multiple: true },
    tuning: { type: "string", multiple: true },
    hogs: { type: "string", multiple: true },
  },
});
/** `name=value` options keyed by tree name. */
function byTree(list) {
  const m = new Map();
  for (const x of list ?? []) {
    const i = x.indexOf("=");
    if (i < 0) throw new Error(`expected name=value, got ${x}`);
    m.set(x.slice(0, i), x.slice(i + 1));
  }
  return m;
}
const flagsOf = byTree(args.flags);
const tuningOf = byTree(args.tuning);
const PROCS = Number((args.procs ?? []).find((x) => !x.includes("=")) ?? 1);
const procsOf = byTree((args.procs ?? []).filter((x) => x.includes("=")));
const hogsOf = byTree(args.hogs);
const trees = (args.tree ?? []).map((t) => {
  const i = t.indexOf("=");
  const [path, keys = "seq"] = (i < 0 ? t : t.slice(i + 1)).split("@");
  if (!["seq", "v4", "v7"].includes(keys)) throw new Error(`--tree ${t}: keys are @seq, @v4 or @v7`);
  const tree = { name: i < 0 ? t : t.slice(0, i), root: resolve(path), keys };
  const flags = flagsOf.get(tree.name);
  tree.execArgv = flags === undefined ? [...imageNodeOptions()] : flags.split(/\s+/).filter(Boolean);
  tree.tuning = JSON.parse(tuningOf.get(tree.name) ?? "{}");
  tree.procs = Number(procsOf.get(tree.name) ?? PROCS);
  const [hogs = "0", hogKind = "0"] = (hogsOf.get(tree.name) ?? "0").split(":");
  tree.hogs = Number(hogs);
  tree.hogKind = hogKind;
  return tree;
});

/** A backlog of N pending rows whose keys are v4 or v7 UUIDs made in Node, 1,000 rows per INSERT. */
async function backlogWithKeys(env, kind) {
  const { uuidv7 } = await import("../../../packages/outbox/dist/uuid.js");
  const key = kind === "v4" ? randomUUID : uuidv7;
  for (let from = 0; from < N; from += 1_000) {
    const keys = Array.from({ length: Math.min(1_000, N - from) }, () => key());
    await env.pool.query(
      `INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key)
       SELECT $1, 'bench.event', jsonb_build_object('seq', g, 'orderId', 'ord-' || g, 'amount', 4200, 'currency', 'EUR'), k
       FROM unnest($2::text[]) WITH ORDINALITY AS t(k, o), LATERAL (SELECT $3::int + o::int AS g) s ORDER BY o`,
      [env.ctx.generation, keys, from],
    );
  }
  await settle(env.url);
}
if (trees.length < 2) throw new Error("--tree: give at least two, as name=path");
const N = Number(args.events);
const ROUNDS = Number(args.rounds);
if (args.prof) mkdirSync(args.prof, { recursive: true });

/** Forks `root`'s bench worker for Cutover; resolves once it has started consuming. */
async function startWorker(tree, url, config, profDir) {
  const { root } = tree;
  const execArgv = [...tree.execArgv];
  if (profDir) execArgv.push("--cpu-prof", `--cpu-prof-dir=${profDir}`);
  const child = fork(
    join(root, "tools", "bench", "worker.mjs"),
    [JSON.stringify({ system: "cutover", url, config, tuning: tree.tuning, mode: "count", memory: true })],
    // The worker's stdout (e.g. --trace-gc lines) goes to this script's stderr.
    { stdio: ["ignore", 2, "inherit", "ipc"], execArgv },
  );
  const { state, exited, next } = trackWorker(child, root);
  const ready = await next("ready");
  return {
    pid: child.pid,
    state,
    readyRssMB: ready.rssMB,
    async go() {
      const started = next("started");
      child.send({ type: "go" });
      await started;
    },
    async stop() {
      const stopped = next("stopped");
      child.send({ type: "stop" });
      const m = await stopped;
      await exited;
      return m;
    },
  };
}

/** Executor µs per event of the statements whose text matches `re`. */
function execUs(stmts, re) {
  const ms = stmts.filter((q) => re.test(q.query)).reduce((sum, q) => sum + q.total_exec_time, 0);
  return (ms * 1000) / N;
}

/** Context switches of a process so far: voluntary (it waited) and involuntary (preempted). */
function contextSwitches(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const get = (name) => Number(new RegExp(`^${name}_ctxt_switches:\\s+(\\d+)`, "m").exec(text)?.[1]);
    return { vol: get("voluntary"), invol: get("nonvoluntary") };
  } catch {
    return { vol: Number.NaN, invol: Number.NaN };
  }
}

/** Read + write system calls of a process so far (/proc/PID/io). */
function syscalls(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/io`, "utf8");
    return Number(/^syscr:\s+(\d+)/m.exec(text)?.[1]) + Number(/^syscw:\s+(\d+)/m.exec(text)?.[1]);
  } catch {
    return Number.NaN;
  }
}

/** Nanoseconds a process has run on a CPU and waited runnable for one (/proc/PID/schedstat). */
function schedstat(pid) {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ").map(Number);
    return { run, wait };
  } catch {
    return { run: Number.NaN, wait: Number.NaN };
  }
}

/**
 * CPU ms of a process's threads so far: the main (JavaScript) thread and the
 * others, which Node 20 names all "node": V8's platform workers (parallel
 * scavenges, concurrent marking, TurboFan compiles) and libuv's pool (unused by
 * the consumer). From /proc/PID/task/TID/stat.
 */
function threadCpuMs(pid) {
  const by = { main: 0, helpers: 0 };
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
      const ms = (Number(f[11]) + Number(f[12])) * 10;
      if (tid === String(pid)) by.main += ms;
      else by.helpers += ms;
    }
  } catch {}
  return by;
}

/** Hogs still running; killed on exit, also when a burn throws. */
const liveHogs = new Set();
process.on("exit", () => {
  for (const h of liveHogs) h.kill();
});

/** N hog processes of a kind (see --hogs), until killed. */
function startHogs(n, kind) {
  const mb = Number(kind);
  const spin =
    kind === "js"
      ? "let keep=[];const s=()=>{const t=Date.now()+1;while(Date.now()<t){const o={id:String(Math.random()),topic:'bench.event',payload:{seq:1,orderId:'ord-1',amount:4200,currency:'EUR'}};keep.push(JSON.parse(JSON.stringify(o)));if(keep.length>2000)keep=[]}setTimeout(s,4)};s()"
      : kind === "light"
        ? "const s=()=>{const t=Date.now()+1;while(Date.now()<t);setTimeout(s,4)};s()"
        : mb > 0
          ? `const b=new Uint8Array(${mb}*1048576);let i=0;const s=()=>{const t=Date.now()+2;while(Date.now()<t)for(let k=0;k<4096;k++){b[i]++;i=(i+64)%b.length}setTimeout(s,2)};s()`
          : "const s=()=>{const t=Date.now()+2;while(Date.now()<t);setTimeout(s,2)};s()";
  return Array.from({ length: n }, () => {
    const h = spawn(process.execPath, ["-e", spin], { stdio: "ignore" });
    liveHogs.add(h);
    h.on("exit", () => liveHogs.delete(h));
    return h;
  });
}

let runNo = 0;
async function burn(server, tree) {
  const tag = `paired_${++runNo}`;
  const env = await freshDatabase(server.adminUrl, tag);
  if (tree.keys === "seq") await backlog(env, N);
  else await backlogWithKeys(env, tree.keys);
  const pm = await postmasterPid(env.pool);
  const profDir = args.prof ? join(args.prof, `tmp-${runNo}`) : undefined;
  const ws = [];
  for (let k = 0; k < tree.procs; k++)
    ws.push(await startWorker(tree, env.url, env.ctx.workerConfig, profDir));
  await resetCounters(env.pool);
  const lsn = async () => (await env.pool.query("SELECT pg_current_wal_lsn()::text AS l")).rows[0].l;
  const wal0 = await lsn();
  await Promise.all(ws.map((w) => w.go()));
  const hogs = startHogs(tree.hogs, tree.hogKind);
  const load0 = load();
  const nodeCpu = () => ws.reduce((sum, w) => sum + processCpuMs(w.pid), 0);
  for (const w of ws) {
    w.switches0 = contextSwitches(w.pid);
    w.syscalls0 = syscalls(w.pid);
    w.sched0 = schedstat(w.pid);
    w.threads0 = threadCpuMs(w.pid);
  }
  const cpu0 = { pg: serverCpuMs(pm), node: nodeCpu() };
  for (;;) {
    const failed = ws.find((w) => w.state.error || w.state.exited);
    if (failed) throw new Error(`worker (${tree.name}): ${failed.state.error ?? "exited"}`);
    if (ws.reduce((sum, w) => sum + w.state.handled, 0) >= N) break;
    await sleep(50);
  }
  let tEnd;
  for (;;) {
    const { rows } = await env.pool.query(
      "SELECT count(*)::int AS n FROM cutover.outbox WHERE generation = $1 AND status IN ('pending', 'in_flight')",
      [env.ctx.generation],
    );
    if (rows[0].n === 0) {
      tEnd = nowMs();
      break;
    }
    await sleep(10);
  }
  const cpu1 = { pg: serverCpuMs(pm), node: nodeCpu() };
  for (const h of hogs) h.kill();
  const walBytes = Number(
    (await env.pool.query("SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8 AS b", [await lsn(), wal0]))
      .rows[0].b,
  );
  const switchesOf = (key) => ws.reduce((sum, w) => sum + contextSwitches(w.pid)[key] - w.switches0[key], 0);
  const vol = switchesOf("vol");
  const invol = switchesOf("invol");
  const sys = ws.reduce((sum, w) => sum + syscalls(w.pid) - w.syscalls0, 0);
  const schedOf = (key) => ws.reduce((sum, w) => sum + schedstat(w.pid)[key] - w.sched0[key], 0);
  const runNs = schedOf("run");
  const threadsOf = (key) => ws.reduce((sum, w) => sum + threadCpuMs(w.pid)[key] - w.threads0[key], 0);
  const threads = { main: threadsOf("main"), helpers: threadsOf("helpers") };
  const waitNs = schedOf("wait");
  const load1 = load();
  const stmts = await statementStats(env.pool);
  const stopped = await Promise.all(ws.map((w) => w.stop()));
  await env.pool.end();
  await dropDatabase(server.adminUrl, `prof_${tag}`).catch(() => {});
  if (profDir) {
    // One file per worker process: NAME-RUN.cpuprofile, or NAME-RUN-K.cpuprofile with --procs.
    const files = readdirSync(profDir)
      .filter((x) => x.endsWith(".cpuprofile"))
      .sort();
    for (const [k, file] of files.entries()) {
      const suffix = files.length > 1 ? `-${k + 1}` : "";
      renameSync(join(profDir, file), join(args.prof, `${tree.name}-${runNo}${suffix}.cpuprofile`));
    }
  }
  const first = Math.min(...ws.map((w) => w.state.first));
  const wallMs = tEnd - first;
  const claim = stmts.find((q) => /FOR UPDATE SKIP LOCKED/.test(q.query) && /^WITH c AS/.test(q.query));
  const metrics = stopped.map((m) => m?.metrics).filter(Boolean);
  const claims = metrics.reduce((sum, m) => sum + m.claims, 0);
  const nonEmpty = metrics.reduce((sum, m) => sum + (m.batchSizes?.count ?? 0), 0);
  const peak = (key) => Math.max(...stopped.map((m) => m?.memPeak?.[key] ?? Number.NaN));
  return {
    eps: (N / wallMs) * 1000,
    nodeUs: ((cpu1.node - cpu0.node) * 1000) / N,
    pgUs: ((cpu1.pg - cpu0.pg) * 1000) / N,
    rssMB: Math.max(...stopped.map((m) => m?.peakRssMB ?? 0)),
    readyRssMB: Math.max(...ws.map((w) => w.readyRssMB)),
    heapTotalMB: peak("heapTotalMB"),
    externalMB: peak("externalMB"),
    claims,
    emptyClaims: claims - nonEmpty,
    rowsPerClaim: nonEmpty > 0 ? N / nonEmpty : Number.NaN,
    claimMeanMs: claim ? claim.total_exec_time / claim.calls : Number.NaN,
    claimCalls: claim?.calls ?? Number.NaN,
    // Executor µs per event of the chunk's two row statements (the claim's is claimUs).
    claimUs: claim ? (claim.total_exec_time * 1000) / N : Number.NaN,
    insertUs: execUs(stmts, /^WITH cfg AS MATERIALIZED/),
    // The completion: the done update (completion "keep") or the DELETE (the default).
    completeUs: execUs(stmts, /^WITH (u AS \(\s*UPDATE|d AS \(\s*DELETE)/),
    walBytes: walBytes / N,
    switches: (vol + invol) / (N / 1000),
    volSwitches: vol / (N / 1000),
    involSwitches: invol / (N / 1000),
    syscalls: sys / (N / 1000),
    // Time the workers waited runnable for a CPU, per µs they ran (scheduler's own accounting).
    runqueueWait: waitNs / runNs,
    mainUs: (threads.main * 1000) / N,
    helpersUs: (threads.helpers * 1000) / N,
    load: `${load0.split(" / ")[0]} -> ${load1.split(" / ")[0]}`,
  };
}

const f = (x, d = 1) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
const server = await startProfileServer();
try {
  out(
    `Paired burn-downs, ${N.toLocaleString("en")} events, ${ROUNDS} rounds; trees: ${trees
      .map(
        (t) =>
          `${t.name}=${t.root} [${t.execArgv.join(" ")}] ${JSON.stringify(t.tuning)} x ${t.procs} process(es)${t.hogs ? ` + ${t.hogs} CPU hog(s) (${t.hogKind === "0" ? "spin" : t.hogKind})` : ""}`,
      )
      .join(", ")}`,
  );
  out();
  out(
    "| round | tree | events/s | worker CPU µs/event | Postgres CPU µs/event | peak RSS MB (idle worker) | V8 heap / external peak MB | claims (empty) | rows per non-empty claim | claim mean ms | executor µs/event: claim / insertHandled / complete | worker context switches per 1,000 events (voluntary / involuntary) | worker read+write syscalls per 1,000 events | worker run-queue wait per CPU µs | worker CPU µs/event by thread: main / helpers (GC, JIT) | WAL bytes/event | 1-min load |",
  );
  out("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  const results = trees.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < trees.length; k++) {
      const i = (r + k) % trees.length;
      const x = await burn(server, trees[i]);
      results[i][r] = x;
      out(
        `| ${r + 1} | ${trees[i].name} | ${f(x.eps, 0)} | ${f(x.nodeUs)} | ${f(x.pgUs)} | ${f(x.rssMB, 0)} (${f(x.readyRssMB, 0)}) | ${f(x.heapTotalMB, 0)} / ${f(x.externalMB, 0)} | ${x.claims} (${x.emptyClaims}) | ${f(x.rowsPerClaim, 0)} | ${f(x.claimMeanMs, 2)} | ${f(x.claimUs)} / ${f(x.insertUs)} / ${f(x.completeUs)} | ${f(x.switches, 0)} (${f(x.volSwitches, 0)} / ${f(x.involSwitches, 0)}) | ${f(x.syscalls, 0)} | ${f(x.runqueueWait, 2)} | ${f(x.mainUs)} / ${f(x.helpersUs)} | ${f(x.walBytes, 0)} | ${x.load} |`,
      );
    }
  }
  out();
  out(`Ratios to ${trees[0].name}, per round: median (min-max)`);
  out();
  out(
    "| tree | events/s | worker CPU/event | Postgres CPU/event | WAL/event | peak RSS | worker CPU µs/event, median | peak RSS MB, median |",
  );
  out("|---|---|---|---|---|---|---|---|");
  const span = (xs) => `${f(median(xs), 2)} (${f(Math.min(...xs), 2)}-${f(Math.max(...xs), 2)})`;
  for (let i = 0; i < trees.length; i++) {
    const ratio = (key) => results[i].map((x, r) => x[key] / results[0][r][key]);
    out(
      `| ${trees[i].name} | ${span(ratio("eps"))} | ${span(ratio("nodeUs"))} | ${span(ratio("pgUs"))} | ${span(ratio("walBytes"))} | ${span(ratio("rssMB"))} | ${f(median(results[i].map((x) => x.nodeUs)))} | ${f(median(results[i].map((x) => x.rssMB)), 0)} |`,
    );
  }
} finally {
  await server.stop();
}
