#!/usr/bin/env node
// What the slow samples of publish commit -> handler start have in common.
// Runs the bench's latency workload (run.mjs `latency`: 100 warm-up events,
// then 500 sequential single-event publishes, each waiting for its handler to
// start; the worker in its own process, with the image's V8 flags) with the
// worker instrumented from the outside (the library is not changed): every
// statement the worker's pg clients send (text, sent, answered), every GC
// (perf_hooks), every timer callback (its run time), when a plain LISTEN
// connection in the worker sees the notification, and the hops of each event.
// Then, over all runs of a variant, the slowest 2% of the samples against the
// rest: their hops, and how often a GC, a timer callback or a statement other
// than the event's claim overlaps the sample. Server side: checkpoints and
// autovacuum/autoanalyze runs during the run.
//
// Variants run interleaved (round r starts with variant r mod n), each with
// its own V8 flags and optionally its own built tree, and the ratio of each
// variant's p50 and p99 to the first one is taken round by round:
//
//   node tools/bench/profile/latency-tail.mjs --rounds 4 \
//     --variant 'image=--max-semi-space-size=8 --max-old-space-size=512' \
//     --variant 'semi16=--max-semi-space-size=16 --max-old-space-size=512' \
//     [--root semi16=/path/to/other/tree] [--n 500] [--warmup 100] [--json FILE]
//
// Uses DATABASE_URL's server when set, else a private embedded PostgreSQL
// (better here: no one else's checkpoints or autovacuum). One fresh database
// per run.
import { fork } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

if (process.argv[2] === "--child") await child(JSON.parse(process.argv[3]));
else await parent();

// ---------------------------------------------------------------- worker side
async function child({ url, root, generation, schema }) {
  const { performance, PerformanceObserver } = await import("node:perf_hooks");
  const off = nowMs() - performance.now();
  const now = () => performance.now();
  // Records go into preallocated typed arrays: the instrumentation itself
  // must not leave objects that survive a scavenge (they would make every
  // scavenge slower than the bench worker's).
  const log = {
    gc: new Float64Array(3 * 4096),
    timer: new Float64Array(3 * 65536),
    query: new Float64Array(4 * 65536),
    notif: new Float64Array(16384),
    connect: new Float64Array(2 * 4096),
    claimed: new Float64Array(2 * 16384),
  };
  const len = { gc: 0, timer: 0, query: 0, notif: 0, claimed: 0, connect: 0 };
  const put = (k, ...xs) => {
    const a = log[k];
    const i = len[k];
    if (i + xs.length > a.length) return -1;
    for (let j = 0; j < xs.length; j++) a[i + j] = xs[j];
    len[k] = i + xs.length;
    return i;
  };
  const labels = new Map();
  const labelOf = (text) => {
    let id = labels.get(text);
    if (id === undefined) {
      id = labels.size;
      labels.set(text, id);
    }
    return id;
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) put("gc", e.startTime, e.duration, e.detail?.kind ?? e.kind);
  }).observe({ entryTypes: ["gc"] });
  // Timer callbacks: when each ran and for how long (the library's loops and
  // per-handler timeouts all use the global setTimeout).
  for (const name of ["setTimeout", "setInterval"]) {
    const real = globalThis[name];
    globalThis[name] = (fn, ms, ...rest) => {
      if (typeof fn !== "function") return real(fn, ms, ...rest);
      return real(
        function (...a) {
          const t0 = now();
          try {
            return fn.apply(this, a);
          } finally {
            put("timer", t0, now() - t0, ms ?? 0);
          }
        },
        ms,
        ...rest,
      );
    };
  }
  const req = (await import("node:module")).createRequire(join(root, "packages", "outbox", "package.json"));
  const pg = req("pg");
  const realQuery = pg.Client.prototype.query;
  pg.Client.prototype.query = function (...args) {
    const [config, values, cb] = args;
    const text = typeof config === "string" ? config : (config?.text ?? config?.name ?? "?");
    const at = put("query", labelOf(text), now(), Number.NaN, this.processID ?? 0);
    const done = () => {
      if (at >= 0) log.query[at + 2] = now();
    };
    const cbIndex = typeof values === "function" ? 1 : typeof cb === "function" ? 2 : -1;
    if (cbIndex >= 0) {
      const orig = args[cbIndex];
      args[cbIndex] = function (...a) {
        done();
        return orig.apply(this, a);
      };
      return realQuery.apply(this, args);
    }
    if (config && typeof config.submit === "function") {
      // A Query object (pool.query with a callback wraps one): listen for its end.
      config.once?.("end", done);
      config.once?.("error", done);
      return realQuery.apply(this, args);
    }
    const r = realQuery.apply(this, args);
    if (r && typeof r.then === "function") r.then(done, done);
    return r;
  };
  // New connections (a pool that closed an idle one opens a new one on the path).
  const realConnect = pg.Client.prototype.connect;
  pg.Client.prototype.connect = function (...a) {
    const at = put("connect", now(), Number.NaN);
    const r = realConnect.apply(this, a);
    const done = () => {
      if (at >= 0) log.connect[at + 1] = now();
    };
    if (r && typeof r.then === "function") r.then(done, done);
    return r;
  };
  const outbox = await import(pathToFileURL(join(root, "packages", "outbox", "dist", "index.js")).href);
  const internal = await import(pathToFileURL(join(root, "packages", "outbox", "dist", "internal.js")).href);
  const { z } = req("zod");
  const events = outbox.defineEvents({
    "bench.event": z.object({
      seq: z.number().int(),
      orderId: z.string(),
      amount: z.number(),
      currency: z.string(),
    }),
  });
  const handler = outbox.defineHandler(events, {
    name: "bench.noop",
    topics: ["bench.event"],
    handle: async (e) => {
      process.send({ type: "handled", seq: e.payload.seq, t: nowMs(), p: now() });
    },
  });
  const consumer = outbox.createConsumer({ databaseUrl: url, schema, generation, handlers: [handler] });
  consumer.on("claimed", (c) => {
    put("claimed", now(), c.count);
  });
  const listen = new pg.Client({ connectionString: url });
  await listen.connect();
  await listen.query(`LISTEN "${internal.channelFor(schema, generation)}"`);
  listen.on("notification", () => put("notif", now()));
  // The bench worker's own 10 Hz progress report (worker.mjs) runs in the
  // measured process too; keep it, so the timers are the bench's.
  const handledCount = 0;
  const report = () => process.send({ type: "progress", handled: handledCount });
  let interval;
  process.on("message", async (m) => {
    if (m.type === "go") {
      if (typeof gc === "function") {
        gc();
        process.stderr.write(
          `heapUsed after a full GC at start: ${(process.memoryUsage().heapUsed / 1048576).toFixed(2)} MB\n`,
        );
      }
      if (process.env.LATENCY_TAIL_HEAP_PROFILE) await heapProfile.start();
      await consumer.start();
      interval = setInterval(report, 100);
      process.send({ type: "started" });
    } else if (m.type === "stop") {
      clearInterval(interval);
      if (typeof gc === "function") {
        gc();
        process.stderr.write(
          `heapUsed after a full GC at the end: ${(process.memoryUsage().heapUsed / 1048576).toFixed(2)} MB\n`,
        );
      }
      await consumer.stop({ timeoutMs: 10_000 });
      await listen.end();
      if (process.env.LATENCY_TAIL_HEAP_PROFILE)
        await heapProfile.stop(process.env.LATENCY_TAIL_HEAP_PROFILE);
      const rows = (k, w, cols) => {
        const r = [];
        for (let i = 0; i < len[k]; i += w) {
          const row = [...log[k].subarray(i, i + w)].map((v, j) => (cols.includes(j) ? v + off : v));
          r.push(row);
        }
        return r;
      };
      const names = [...labels.keys()].map((t) => String(t).replace(/\s+/g, " ").trim().slice(0, 60));
      process.send(
        {
          type: "trace",
          gcs: rows("gc", 3, [0]),
          timers: rows("timer", 3, [0]),
          queries: rows("query", 4, [1, 2]).map((q) => [
            names[q[0]],
            q[1],
            Number.isNaN(q[2]) ? undefined : q[2],
            q[3],
          ]),
          notifs: rows("notif", 1, [0]).map((r) => r[0]),
          claimed: rows("claimed", 2, [0]),
          connects: rows("connect", 2, [0, 1]),
        },
        () => process.disconnect(),
      );
    }
  });
  process.send({ type: "ready" });
}

// With LATENCY_TAIL_HEAP_PROFILE=FILE: V8's sampling heap profiler over the
// worker's run, counting objects a scavenge already freed too (what makes
// the young generation fill), written as a .heapprofile and summarised by
// allocating function on stderr.
const heapProfile = {
  session: undefined,
  async start() {
    const { Session } = await import("node:inspector/promises");
    this.session = new Session();
    this.session.connect();
    await this.session.post("HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  },
  async stop(file) {
    const { profile } = await this.session.post("HeapProfiler.stopSampling");
    writeFileSync(file, JSON.stringify(profile));
    const by = new Map();
    let total = 0;
    const walk = (n, stack) => {
      const f = n.callFrame;
      const here = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/packages\//, "")}:${f.lineNumber + 1}`;
      if (n.selfSize > 0) {
        total += n.selfSize;
        by.set(here, (by.get(here) ?? 0) + n.selfSize);
      }
      for (const c of n.children) walk(c, stack);
    };
    walk(profile.head, []);
    const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 25);
    process.stderr.write(`sampled allocation ${(total / 1048576).toFixed(1)} MB; top allocating frames:\n`);
    for (const [k, v] of top)
      process.stderr.write(
        `${(v / 1024).toFixed(0).padStart(8)} KB ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}\n`,
      );
  },
};

// ---------------------------------------------------------------- bench side
async function parent() {
  const { values: args } = parseArgs({
    options: {
      variant: { type: "string", multiple: true },
      root: { type: "string", multiple: true },
      rounds: { type: "string", default: "4" },
      n: { type: "string", default: "500" },
      warmup: { type: "string", default: "100" },
      gap: { type: "string", default: "0" },
      json: { type: "string" },
    },
  });
  const { loadavg } = await import("node:os");
  const pg = (await import("pg")).default;
  const { createDatabase, dropDatabase, inTx, startServer } = await import("../lib/server.mjs");
  const { imageNodeOptions } = await import("../lib/workers.mjs");
  const { median } = await import("../lib/stats.mjs");
  const cutover = await import("../systems/cutover.mjs");
  const { payloadFor } = await import("../lib/payload.mjs");
  const repo = resolve(here, "..", "..", "..");
  const roots = new Map(
    (args.root ?? []).map((s) => {
      const i = s.indexOf("=");
      return [s.slice(0, i), resolve(s.slice(i + 1))];
    }),
  );
  const variants = (args.variant ?? [`image=${imageNodeOptions().join(" ")}`]).map((s) => {
    const i = s.indexOf("=");
    const name = i < 0 ? s : s.slice(0, i);
    return {
      name,
      flags: (i < 0 ? "" : s.slice(i + 1)).split(/\s+/).filter(Boolean),
      root: roots.get(name) ?? repo,
    };
  });
  const N = Number(args.n);
  const WARMUP = Number(args.warmup);
  const ROUNDS = Number(args.rounds);
  const GAP = Number(args.gap);
  const out = (s = "") => process.stdout.write(`${s}\n`);
  const load = () => loadavg()[0].toFixed(2);
  const server = await startServer();

  async function run(v, tag) {
    const dbName = `lattail_${tag}`;
    const url = await createDatabase(server.adminUrl, dbName);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const ctx = await cutover.setup(url, pool);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const bg = async () =>
      (
        await admin.query(
          "SELECT checkpoints_timed + checkpoints_req AS ckpt, buffers_backend AS backend_writes FROM pg_stat_bgwriter",
        )
      ).rows[0];
    const bg0 = await bg();
    const child = fork(
      fileURLToPath(import.meta.url),
      ["--child", JSON.stringify({ url, root: v.root, generation: ctx.generation, schema: cutover.SCHEMA })],
      { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: v.flags },
    );
    const seen = new Map();
    let wake;
    const msgs = new Map();
    const waitFor = (type) => new Promise((r) => msgs.set(type, r));
    child.on("message", (m) => {
      if (m.type === "handled") {
        seen.set(m.seq, m.t);
        wake?.();
      } else msgs.get(m.type)?.(m);
    });
    const died = new Promise((_, rej) => child.on("exit", (c) => rej(new Error(`worker exited ${c}`))));
    died.catch(() => {});
    await Promise.race([waitFor("ready"), died]);
    const started = waitFor("started");
    child.send({ type: "go" });
    await Promise.race([started, died]);
    await new Promise((r) => setTimeout(r, 500));
    // A plain LISTEN connection in this (the publishing) process too: a
    // notification late here as well as in the worker was late leaving the
    // server; late only in the worker, the worker process was not running.
    const plisten = new pg.Client({ connectionString: url });
    await plisten.connect();
    await plisten.query(
      `LISTEN "${(await import(pathToFileURL(join(v.root, "packages", "outbox", "dist", "internal.js")).href)).channelFor(cutover.SCHEMA, ctx.generation)}"`,
    );
    const pnotifs = [];
    plisten.on("notification", () => pnotifs.push(nowMs()));
    // Run-queue wait (time runnable but not running, /proc/PID/schedstat) of
    // the worker, this process and the database's backends, per sample,
    // from just after the commit to the handler start's message.
    const pids = (
      await admin.query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
      )
    ).rows.map((r) => r.pid);
    const waitOf = (pid) => {
      try {
        return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e6;
      } catch {
        return 0;
      }
    };
    const waits = () => [waitOf(child.pid), waitOf(process.pid), pids.reduce((a, p) => a + waitOf(p), 0)];
    const samples = [];
    const l0 = load();
    // Exactly run.mjs's latency loop.
    for (let seq = 0; seq < WARMUP + N; seq++) {
      await inTx(pool, (c) => cutover.insert(ctx, c, [payloadFor(seq)]));
      const tc = nowMs();
      // Read after the commit's timestamp: the window is [commit, handler
      // start seen here], while the worker runs on (~0.05 ms of this process).
      const w0 = waits();
      const wall = Date.now();
      const deadline = tc + 15_000;
      while (!seen.has(seq)) {
        if (nowMs() > deadline) throw new Error(`event ${seq} not handled in 15 s`);
        await new Promise((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      const w1 = waits();
      // --gap: idle before each measured event (pg-pool closes connections
      // idle for 10 s; the heartbeat keeps one of them in use).
      if (GAP > 0 && seq >= WARMUP - 1) await new Promise((r) => setTimeout(r, GAP));
      samples.push({
        seq,
        tc,
        th: seen.get(seq),
        wall,
        warm: seq < WARMUP,
        wait: w1.map((x, j) => x - w0[j]),
      });
    }
    const l1 = load();
    await plisten.end();
    samples.forEach((s, j) => {
      s.pnotified = pnotifs[j];
    });
    const traceP = waitFor("trace");
    child.send({ type: "stop" });
    const trace = await Promise.race([traceP, died]);
    const bg1 = await bg();
    const av = (
      await admin.query(
        `SELECT relname, autovacuum_count::int AS v, autoanalyze_count::int AS a,
                extract(epoch FROM last_autovacuum) * 1000 AS lv, extract(epoch FROM last_autoanalyze) * 1000 AS la
         FROM pg_stat_user_tables WHERE schemaname = $1`,
        [cutover.SCHEMA],
      )
    ).rows.filter((r) => r.v > 0 || r.a > 0);
    await admin.end();
    await pool.end();
    await dropDatabase(server.adminUrl, dbName).catch(() => {});
    return { samples, trace, load: `${l0} -> ${l1}`, ckpt: bg1.ckpt - bg0.ckpt, autovac: av };
  }

  // The hops of one sample, and what overlapped its window [commit, handler start].
  function annotate(r) {
    const { trace } = r;
    const claimIdx = (q) => q[0].startsWith("WITH c AS");
    const claims = trace.queries.filter(claimIdx);
    const others = trace.queries.filter((q) => !claimIdx(q) && !/^(BEGIN|COMMIT|ROLLBACK)$/i.test(q[0]));
    for (const s of r.samples) {
      // The plain LISTEN connection sees one notification per publish, in order.
      s.notified = trace.notifs[s.seq];
      // The claim that fed the handler: the last one answered before handler start.
      let c;
      for (const q of claims) if (q[2] !== undefined && q[2] <= s.th + 1e-6) c = q;
      if (c) {
        s.claimSent = c[1];
        s.claimBack = c[2];
      }
      s.claimsInWindow = claims.filter((q) => q[1] < s.th && (q[2] ?? Infinity) > s.tc).length;
      const lo = s.tc - 0.05;
      s.gc = trace.gcs.filter((g) => g[0] < s.th && g[0] + g[1] > lo);
      s.gcMs = s.gc.reduce((a, g) => a + Math.min(g[0] + g[1], s.th) - Math.max(g[0], lo), 0);
      s.timers = trace.timers.filter((t) => t[0] < s.th && t[0] + t[1] > lo);
      s.loopTimers = s.timers.filter((t) => t[2] >= 100);
      s.connects = (trace.connects ?? []).filter((c) => c[0] < s.th && c[0] > lo).length;
      s.others = [...new Set(others.filter((q) => q[1] < s.th && (q[2] ?? Infinity) > lo).map((q) => q[0]))];
    }
    r.nNotifs = trace.notifs.length;
    r.nGcs = trace.gcs.length;
  }

  const pct = (xs, q) => {
    const v = [...xs].sort((a, b) => a - b);
    return v[Math.min(v.length - 1, Math.floor(q * v.length))];
  };
  const f = (x, d = 2) => (x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
  out(
    `Latency tail: ${WARMUP} warm-up + ${N} sequential events per run, ${ROUNDS} rounds; server ${server.kind ?? "embedded"}; node ${process.version}`,
  );
  for (const v of variants) out(`  ${v.name}: flags [${v.flags.join(" ")}] tree ${v.root}`);
  out();
  out("| round | variant | p50 | p99 | max | GCs in run | checkpoints | autovacuum/analyze | 1-min load |");
  out("|---|---|---|---|---|---|---|---|---|");
  const results = variants.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < variants.length; k++) {
      const i = (r + k) % variants.length;
      const res = await run(variants[i], `${r}_${i}`);
      annotate(res);
      results[i][r] = res;
      const xs = res.samples.filter((s) => !s.warm).map((s) => s.th - s.tc);
      res.p50 = pct(xs, 0.5);
      res.p99 = pct(xs, 0.99);
      res.max = Math.max(...xs);
      const av = res.autovac.map((a) => `${a.relname} v${a.v}/a${a.a}`).join(", ") || "none";
      out(
        `| ${r + 1} | ${variants[i].name} | ${f(res.p50, 3)} | ${f(res.p99, 3)} | ${f(res.max)} | ${res.nGcs} | ${res.ckpt} | ${av} | ${res.load} |`,
      );
    }
  }
  out();
  const span = (xs) => `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;
  if (variants.length > 1) {
    out(`Ratios to ${variants[0].name}, round by round (<1: lower latency): median (min-max)`);
    out();
    out("| variant | p50 | p99 | max |");
    out("|---|---|---|---|");
    for (let i = 1; i < variants.length; i++) {
      const ratio = (key) => results[i].map((x, r) => x[key] / results[0][r][key]);
      out(`| ${variants[i].name} | ${span(ratio("p50"))} | ${span(ratio("p99"))} | ${span(ratio("max"))} |`);
    }
    out();
  }
  for (let i = 0; i < variants.length; i++) {
    const all = results[i].flatMap((res, r) =>
      res.samples.filter((s) => !s.warm).map((s) => ({ ...s, round: r + 1, total: s.th - s.tc })),
    );
    const sorted = [...all].sort((a, b) => b.total - a.total);
    const k = Math.max(1, Math.ceil(all.length * 0.02));
    const slow = sorted.slice(0, k);
    const rest = sorted.slice(k);
    const hops = (s) => ({
      notify: s.notified - s.tc,
      pnotify: s.pnotified - s.tc,
      toSend: s.claimSent - s.notified,
      claim: s.claimBack - s.claimSent,
      start: s.th - s.claimBack,
    });
    const share = (xs, p) => `${((100 * xs.filter(p).length) / xs.length).toFixed(1)}%`;
    const medHop = (xs, key) => f(median(xs.map((s) => hops(s)[key])), 3);
    out(`### ${variants[i].name}: ${all.length} samples; slowest 2% (${k}) against the rest`);
    out();
    out(
      "| group | total p50 | commit -> notification (worker) | (publisher process) | notification -> claim sent | claim round trip | claim back -> handler | with a GC in the window | GC ms in window (mean) | with a loop timer (>=100 ms) | with another statement in flight | with 2+ claims in window | with a new connection opened | run-queue wait per sample: worker / publisher / backends (mean ms) |",
    );
    out("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (const [label, xs] of [
      ["slowest 2%", slow],
      ["rest", rest],
    ]) {
      out(
        `| ${label} | ${f(median(xs.map((s) => s.total)), 3)} | ${medHop(xs, "notify")} | ${medHop(xs, "pnotify")} | ${medHop(xs, "toSend")} | ${medHop(xs, "claim")} | ${medHop(xs, "start")} | ${share(xs, (s) => s.gc.length > 0)} | ${f(xs.reduce((a, s) => a + s.gcMs, 0) / xs.length, 3)} | ${share(xs, (s) => s.loopTimers.length > 0)} | ${share(xs, (s) => s.others.length > 0)} | ${share(xs, (s) => s.claimsInWindow > 1)} | ${share(xs, (s) => s.connects > 0)} | ${[0, 1, 2].map((j) => f(xs.reduce((a, s) => a + s.wait[j], 0) / xs.length, 3)).join(" / ")} |`,
      );
    }
    out();
    const labels = new Map();
    for (const s of all) for (const l of s.others) labels.set(l, (labels.get(l) ?? 0) + 1);
    out("Statements other than the claim in flight during the window (share of samples):");
    out();
    out("| statement | slowest 2% | rest |");
    out("|---|---|---|");
    for (const l of [...labels.keys()].sort())
      out(
        `| ${l} | ${share(slow, (s) => s.others.includes(l))} | ${share(rest, (s) => s.others.includes(l))} |`,
      );
    out();
    out("Slowest samples, one by one (ms; GC: kind@offset from commit +duration):");
    out();
    out(
      "| round | seq | total | notify (worker / publisher) | to send | claim | to handler | GCs | loop timers | new connections | run-queue wait worker / publisher / backends |",
    );
    out("|---|---|---|---|---|---|---|---|---|---|---|");
    for (const s of slow) {
      const h = hops(s);
      const gcs = s.gc.map((g) => `k${g[2]}@${f(g[0] - s.tc)}+${f(g[1])}`).join(" ") || "";
      const lt = s.loopTimers.map((t) => `${t[2]}ms-timer@${f(t[0] - s.tc)}+${f(t[1])}`).join(" ") || "";
      out(
        `| ${s.round} | ${s.seq} | ${f(s.total)} | ${f(h.notify)} / ${f(h.pnotify)} | ${f(h.toSend)} | ${f(h.claim)} | ${f(h.start)} | ${gcs} | ${lt} | ${s.connects} | ${s.wait.map((x) => f(x)).join(" / ")} |`,
      );
    }
    out();
  }
  if (args.json)
    writeFileSync(
      args.json,
      JSON.stringify(
        variants.map((v, i) => ({
          ...v,
          runs: results[i].map((r) => ({ ...r, trace: { gcs: r.trace.gcs } })),
        })),
      ),
    );
  await server.stop();
}
