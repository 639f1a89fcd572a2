/**
 * The scoreboard: each scenario records one entry in
 * test/chaos/results/<scale>.json; a full run also rewrites the table between
 * the scoreboard markers of RELIABILITY.md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface ScoreEntry {
  scenario: string;
  scale: string;
  published: number;
  committed: number;
  rolledBack: number;
  unknown: number;
  unknownCommitted: number;
  handled: number;
  done: number;
  dead: number;
  lost: number;
  duplicatedEffects: number;
  crossGeneration: number;
  fencingViolations: number;
  /** From the end of the fault until everything published before it was handled. */
  recoveryMs: number | null;
  durationS: number;
  /** Sustained publish rate (load scenario), events/s. */
  publishRate?: number;
  handleRate?: number;
  note?: string;
}

const resultsDir = fileURLToPath(new URL("../results/", import.meta.url));
const reliability = fileURLToPath(new URL("../../../RELIABILITY.md", import.meta.url));
const START = "<!-- scoreboard:start -->";
const END = "<!-- scoreboard:end -->";

// The order scenarios appear in the table.
const ORDER = [
  "worker SIGKILL mid-batch, repeatedly",
  "SIGSTOP past the lease (zombie)",
  "worker SIGSTOP mid-chunk, fresh events flowing",
  "one worker's connections partitioned",
  "chunk connections killed repeatedly",
  "LISTEN connection cut",
  "LISTEN connection frozen",
  "publisher frozen in its transaction",
  "publishers behind PgBouncer (transaction mode)",
  "all connections cut for 10 s",
  "database stalled past the lease",
  "database restarted",
  "database crashed mid-burn-down, repeatedly",
  "rolling deploy N -> N+1",
  "rollback drill N+1 -> N",
  "poison, hanging and non-Error handlers",
  "2 generations at max rate, workers killed and frozen",
];

export function readResults(scaleName: string): ScoreEntry[] {
  const file = `${resultsDir}${scaleName}.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ScoreEntry[]) : [];
}

export function recordResult(entry: ScoreEntry): void {
  mkdirSync(resultsDir, { recursive: true });
  const all = readResults(entry.scale).filter((e) => e.scenario !== entry.scenario);
  all.push(entry);
  const rank = (s: string) => (ORDER.indexOf(s) < 0 ? 99 : ORDER.indexOf(s));
  all.sort((a, b) => rank(a.scenario) - rank(b.scenario));
  writeFileSync(`${resultsDir}${entry.scale}.json`, `${JSON.stringify(all, null, 2)}\n`);
  if (entry.scale === "full" && existsSync(reliability)) {
    const doc = readFileSync(reliability, "utf8");
    const a = doc.indexOf(START);
    const b = doc.indexOf(END);
    if (a >= 0 && b > a) {
      writeFileSync(reliability, `${doc.slice(0, a + START.length)}\n${renderTable(all)}\n${doc.slice(b)}`);
    }
  }
}

const secs = (ms: number | null) => (ms === null ? "-" : `${(ms / 1000).toFixed(1)} s`);

export function renderTable(entries: ScoreEntry[]): string {
  const head =
    "| scenario | published | committed | rolled back | unknown (committed) | handled | dead | lost | duplicated effects | cross-generation | fencing violations | recovery |\n" +
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|";
  const rows = entries.map(
    (e) =>
      `| ${e.scenario} | ${e.published} | ${e.committed} | ${e.rolledBack} | ${e.unknown} (${e.unknownCommitted}) | ${e.handled} | ${e.dead} | ${e.lost} | ${e.duplicatedEffects} | ${e.crossGeneration} | ${e.fencingViolations} | ${secs(e.recoveryMs)} |`,
  );
  const notes = entries
    .filter((e) => e.note || e.publishRate)
    .map(
      (e) =>
        `- ${e.scenario}: ${[e.publishRate ? `sustained ${e.publishRate} publishes/s, ${e.handleRate} handled/s` : "", e.note ?? ""].filter(Boolean).join("; ")}`,
    );
  return [head, ...rows, "", ...notes].join("\n");
}
