/**
 * How hard the chaos suite pushes. CHAOS_SCALE=ci (the default, and what CI
 * runs) keeps every scenario short so the whole project stays well under 8
 * minutes on 2 cores; CHAOS_SCALE=full is the scoreboard run (RELIABILITY.md).
 */
export interface Scale {
  name: "ci" | "full";
  /** Publish attempts per second per publisher (steady publishing). */
  rate: number;
  /** Publisher processes per scenario. */
  publishers: number;
  /** Steady publishing before and after each fault. */
  phaseMs: number;
  /** How long the suite waits for the backlog to drain before checking. */
  settleMs: number;
  /** SIGKILLs in the crash scenario. */
  kills: number;
  /** Server crash scenario: unthrottled publishing that builds the backlog, then crashes during its burn-down. */
  backlogMs: number;
  serverCrashes: number;
  /** Load scenario: workers per generation, duration. */
  loadWorkersPerGeneration: number;
  loadMs: number;
  /** Unthrottled single-event publishers (split over the two generations). */
  loadPublishers: number;
  /** Unthrottled batch publishers (split over the two generations) and their events per transaction. */
  loadBatchPublishers: number;
  loadBatchSize: number;
  /** A worker is killed or frozen (alternately) this often during the load run. */
  loadFaultEveryMs: number;
  /** Base environment of every worker process. */
  workerEnv: Record<string, string>;
}

const ci: Scale = {
  name: "ci",
  rate: 40,
  publishers: 2,
  phaseMs: 3000,
  settleMs: 90_000,
  kills: 3,
  backlogMs: 4000,
  serverCrashes: 3,
  loadWorkersPerGeneration: 2,
  loadMs: 15_000,
  loadPublishers: 2,
  loadBatchPublishers: 2,
  loadBatchSize: 20,
  loadFaultEveryMs: 6000,
  workerEnv: { HOLD_MS: "5" },
};

const full: Scale = {
  name: "full",
  rate: 100,
  publishers: 3,
  phaseMs: 15_000,
  settleMs: 300_000,
  kills: 10,
  backlogMs: 20_000,
  serverCrashes: 8,
  loadWorkersPerGeneration: 3,
  loadMs: 120_000,
  loadPublishers: 4,
  loadBatchPublishers: 2,
  loadBatchSize: 20,
  loadFaultEveryMs: 15_000,
  workerEnv: { HOLD_MS: "5" },
};

function pick(): Scale {
  const s = process.env.CHAOS_SCALE ?? "ci";
  if (s === "ci") return ci;
  if (s === "full") return full;
  throw new Error(`CHAOS_SCALE must be "ci" or "full"; got ${JSON.stringify(s)}`);
}

export const scale = pick();
