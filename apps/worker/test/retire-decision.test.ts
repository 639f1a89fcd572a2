/** The retire decision (pure) and the OUTBOX_RETIRE_* variables. */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/config.js";
import { decideRetire, loadRetireConfig, type RetireReading, type RetireState } from "../src/retire.js";

const config = { quietMs: 60_000, timeoutMs: 600_000 };
const initial: RetireState = {
  enabled: true,
  supersededSince: null,
  newerGeneration: null,
  waitingFor: ["first check"],
  overdue: false,
  retired: false,
  lastCheckAt: null,
  lastError: null,
};
const empty: RetireReading = {
  open: 0,
  lastPublishAgeMs: 3_600_000,
  newerLiveGeneration: 8,
  publisherSessions: 0,
};
const at = (ms: number) => new Date(1_800_000_000_000 + ms);

describe("decideRetire", () => {
  it("never retires the newest live generation, however empty", () => {
    const s = decideRetire(initial, { ...empty, newerLiveGeneration: null }, at(0), config);
    expect(s).toMatchObject({ retired: false, supersededSince: null, overdue: false });
  });

  it("waits the grace window from the first superseded check, even with nothing published for an hour", () => {
    const first = decideRetire(initial, empty, at(0), config);
    expect(first.retired).toBe(false);
    expect(first.supersededSince).toEqual(at(0));
    expect(decideRetire(first, empty, at(59_999), config).retired).toBe(false);
    expect(decideRetire(first, empty, at(60_000), config).retired).toBe(true);
  });

  it("waits for open rows, a recent publish and tagged publisher sessions", () => {
    const s0 = decideRetire(initial, empty, at(0), config);
    for (const r of [{ open: 1 }, { lastPublishAgeMs: 59_000 }, { publisherSessions: 2 }]) {
      const s = decideRetire(s0, { ...empty, ...r }, at(120_000), config);
      expect(s.retired).toBe(false);
      expect(s.waitingFor).toHaveLength(1);
    }
  });

  it("un-supersedes on rollback (the newer generation's workers are gone) and restarts the window after", () => {
    const s0 = decideRetire(initial, empty, at(0), config);
    const rolledBack = decideRetire(s0, { ...empty, newerLiveGeneration: null }, at(30_000), config);
    expect(rolledBack.supersededSince).toBeNull();
    const again = decideRetire(rolledBack, empty, at(40_000), config);
    expect(again.supersededSince).toEqual(at(40_000));
    expect(decideRetire(again, empty, at(90_000), config).retired).toBe(false);
  });

  it("reports overdue past the timeout and still does not retire with rows open", () => {
    const s0 = decideRetire(initial, { ...empty, open: 5 }, at(0), config);
    const late = decideRetire(s0, { ...empty, open: 5 }, at(600_000), config);
    expect(late).toMatchObject({ overdue: true, retired: false });
    expect(decideRetire(late, empty, at(600_001), config)).toMatchObject({ overdue: false, retired: true });
  });
});

describe("loadRetireConfig", () => {
  it("defaults to off, 5 min grace, 1 h timeout", () => {
    expect(loadRetireConfig({})).toEqual({ enabled: false, quietMs: 300_000, timeoutMs: 3_600_000 });
  });

  it("names the wrong variable", () => {
    const err = (env: Record<string, string>) => {
      try {
        loadRetireConfig(env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).message;
      }
      throw new Error("no error");
    };
    expect(err({ OUTBOX_RETIRE_WHEN_SUPERSEDED: "maybe" })).toMatch(
      /^OUTBOX_RETIRE_WHEN_SUPERSEDED must be true or false/,
    );
    expect(err({ OUTBOX_RETIRE_QUIET_MS: "-1" })).toMatch(/^OUTBOX_RETIRE_QUIET_MS must be an integer/);
    expect(
      err({
        OUTBOX_RETIRE_WHEN_SUPERSEDED: "true",
        OUTBOX_RETIRE_QUIET_MS: "5000",
        OUTBOX_RETIRE_TIMEOUT_MS: "5000",
      }),
    ).toMatch(/^OUTBOX_RETIRE_TIMEOUT_MS \(5000\) must exceed OUTBOX_RETIRE_QUIET_MS/);
  });
});
