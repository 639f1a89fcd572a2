// A benchmark worker process: runs one system's consumer with a trivial
// handler and reports to its parent over IPC. Spawned by run.mjs with one
// JSON argument { system, url, config, tuning, mode }:
//   mode "count":   progress every 100 ms (handled, first start, last start)
//   mode "trace":   also [seq, handler-start ms] pairs, every 100 ms
//   mode "latency": one message per handler start, at once
// and optionally memory: true (peaks of process.memoryUsage(), below).
// Times are on the machine-wide monotonic clock (lib/stats.mjs nowMs).
import { readFileSync } from "node:fs";
import { nowMs } from "./lib/stats.mjs";

const { system, url, config, tuning, mode, memory } = JSON.parse(process.argv[2] ?? "{}");

function peakRssMB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) / 1024;
  } catch {}
  return process.memoryUsage().rss / 1024 / 1024;
}

function jsonSafe(_key, value) {
  return typeof value === "bigint" ? value.toString() : value;
}

let handled = 0;
let first;
let last;
let trace = [];
// With `memory: true` (the profile tools), peaks of process.memoryUsage()
// sampled with each progress report (10 Hz): what the VmHWM is made of (V8
// heap, off-heap buffers). Off by default: each call costs ~0.25 ms, up to
// ~1% of a bench worker's busy time in a --cpu-prof profile.
const memPeak = { heapTotalMB: 0, heapUsedMB: 0, externalMB: 0, arrayBuffersMB: 0 };
function sampleMemory() {
  const m = process.memoryUsage();
  const mb = (x) => x / 1024 / 1024;
  memPeak.heapTotalMB = Math.max(memPeak.heapTotalMB, mb(m.heapTotal));
  memPeak.heapUsedMB = Math.max(memPeak.heapUsedMB, mb(m.heapUsed));
  memPeak.externalMB = Math.max(memPeak.externalMB, mb(m.external));
  memPeak.arrayBuffersMB = Math.max(memPeak.arrayBuffersMB, mb(m.arrayBuffers));
}

function onHandle(seq) {
  const t = nowMs();
  if (first === undefined) first = t;
  last = t;
  handled++;
  if (mode === "latency") process.send({ type: "handled", seq, t });
  else if (mode === "trace") trace.push(seq, t);
}

function report() {
  if (memory) sampleMemory();
  const msg = { type: "progress", handled, first, last };
  if (trace.length) {
    msg.trace = trace;
    trace = [];
  }
  process.send(msg);
}

function fail(err) {
  try {
    process.send({ type: "error", message: String(err?.stack ?? err) });
  } catch {}
  process.exit(1);
}
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);

// System names are camelCase (graphileDefault); their files kebab-case.
const mod = await import(`./systems/${system.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.mjs`);
const worker = await mod.createWorker(url, config, tuning ?? {}, onHandle);
let timer;

process.on("message", async (m) => {
  try {
    if (m.type === "go") {
      await worker.start();
      timer = setInterval(report, 100);
      process.send({ type: "started" });
    } else if (m.type === "stop") {
      clearInterval(timer);
      await worker.stop();
      report();
      const metrics = typeof worker.metrics === "function" ? worker.metrics() : undefined;
      const cpu = process.cpuUsage();
      process.send(
        {
          type: "stopped",
          peakRssMB: peakRssMB(),
          memPeak: memory ? memPeak : undefined,
          cpuMs: (cpu.user + cpu.system) / 1000,
          metrics: metrics === undefined ? undefined : JSON.parse(JSON.stringify(metrics, jsonSafe)),
        },
        () => process.disconnect(),
      );
    }
  } catch (err) {
    fail(err);
  }
});
process.send({ type: "ready", rssMB: process.memoryUsage().rss / 1024 / 1024 });
