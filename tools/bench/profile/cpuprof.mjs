// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and
// per area (pg's protocol parser, pg's client, Cutover, zod, Node core, GC,
// idle). Usage: node tools/bench/profile/cpuprof.mjs FILE.cpuprofile [events]
import { readFileSync } from "node:fs";

export function area(frame) {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === "(idle)") return "idle";
    if (functionName === "(garbage collector)") return "GC";
    if (functionName === "(program)") return "V8/native (program)";
    if (functionName === "(root)") return "root";
    return `V8 builtin (${functionName || "anonymous"})`;
  }
  if (url.includes("node_modules/pg-protocol/")) return "pg-protocol (parse/serialize)";
  if (url.includes("node_modules/pg-types/") || url.includes("node_modules/postgres-"))
    return "pg-types (value parsing)";
  if (url.includes("node_modules/pg/") || url.includes("node_modules/pg-pool/")) return "pg client / pool";
  if (url.includes("node_modules/zod/")) return "zod (payload validation)";
  if (url.includes("packages/outbox/")) return "Cutover (packages/outbox)";
  if (url.includes("tools/bench/")) return "bench harness";
  if (url.startsWith("node:")) {
    if (/node:(net|stream|internal\/streams|internal\/stream_base)/.test(url)) return "Node net/streams";
    return "Node core (timers, events, promises)";
  }
  if (url.includes("node_modules/"))
    return `other dependency (${url.split("node_modules/").pop().split("/")[0]})`;
  return "other";
}

/** { totalMs, busyMs, areas: [{area, ms}], top: [{fn, where, area, ms}] } */
export function summarise(file, topN = 20) {
  const prof = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
  }
  const areas = new Map();
  const fns = new Map();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    const a = area(node.callFrame);
    totalMs += ms;
    if (a === "idle") idleMs += ms;
    areas.set(a, (areas.get(a) ?? 0) + ms);
    const where = node.callFrame.url
      ? `${node.callFrame.url.replace(/^.*\/(node_modules|packages|tools)\//, "$1/")}:${node.callFrame.lineNumber + 1}`
      : "";
    const key = `${node.callFrame.functionName || "(anonymous)"}\u0000${where}`;
    const f = fns.get(key) ?? { fn: node.callFrame.functionName || "(anonymous)", where, area: a, ms: 0 };
    f.ms += ms;
    fns.set(key, f);
  }
  return {
    totalMs,
    busyMs: totalMs - idleMs,
    areas: [...areas].map(([a, ms]) => ({ area: a, ms })).sort((x, y) => y.ms - x.ms),
    top: [...fns.values()]
      .filter((f) => f.area !== "idle")
      .sort((x, y) => y.ms - x.ms)
      .slice(0, topN),
  };
}

/** Markdown tables of a summary; per-event µs when `events` is given. */
export function report(s, events) {
  const lines = [];
  const per = (ms) => (events ? ` | ${((ms * 1000) / events).toFixed(2)}` : "");
  const head = events ? " | µs/event" : "";
  lines.push(`Profile: ${s.totalMs.toFixed(0)} ms sampled, ${s.busyMs.toFixed(0)} ms not idle.`, "");
  lines.push(`| area | self ms | % of busy${head} |`, `|---|---|---${events ? "|---" : ""}|`);
  let small = 0;
  for (const a of s.areas) {
    if (a.area === "idle") continue;
    if (a.ms / s.busyMs < 0.01) {
      small += a.ms;
      continue;
    }
    lines.push(`| ${a.area} | ${a.ms.toFixed(0)} | ${((a.ms / s.busyMs) * 100).toFixed(1)}%${per(a.ms)} |`);
  }
  if (small > 0)
    lines.push(
      `| other areas (each < 1%) | ${small.toFixed(0)} | ${((small / s.busyMs) * 100).toFixed(1)}%${per(small)} |`,
    );
  lines.push("", `| function | where | area | self ms | % of busy |`, "|---|---|---|---|---|");
  for (const f of s.top) {
    lines.push(
      `| ${f.fn} | ${f.where} | ${f.area} | ${f.ms.toFixed(0)} | ${((f.ms / s.busyMs) * 100).toFixed(1)}% |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, events] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("usage: node tools/bench/profile/cpuprof.mjs FILE.cpuprofile [events]\n");
    process.exit(2);
  }
  process.stdout.write(`${report(summarise(file), events ? Number(events) : undefined)}\n`);
}
