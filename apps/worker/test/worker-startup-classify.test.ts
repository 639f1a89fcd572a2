/**
 * Which start-up connection failures are retried and which end the process,
 * on errors produced by the real driver against real servers where possible
 * (refused port, missing database, wrong password are exercised end to end in
 * worker-startup.test.ts); SQLSTATEs a test cannot provoke cheaply (57P03,
 * 08006, 53300) are built as the driver reports them: an Error with `code`.
 */
import { describe, expect, it } from "vitest";
import { classifyConnectError, STARTUP_BACKOFF, startupDelayMs } from "../src/startup.js";

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("classifyConnectError", () => {
  it("retries what can heal by waiting", () => {
    for (const err of [
      pgError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"),
      pgError("ENOTFOUND", "getaddrinfo ENOTFOUND db"),
      pgError("ETIMEDOUT", "connect ETIMEDOUT 10.0.0.7:5432"),
      pgError("ECONNRESET", "read ECONNRESET"),
      pgError("57P03", "the database system is starting up"),
      pgError("57P01", "terminating connection due to administrator command"),
      pgError("08006", "connection failure"),
      pgError("53300", "sorry, too many clients already"),
      new Error("timeout expired"),
      new Error("Connection terminated unexpectedly"),
    ]) {
      expect(classifyConnectError(err).kind, err.message).toBe("transient");
    }
  });

  it("gives up at once on what waiting cannot fix, naming it", () => {
    const cases: Array<[Error, RegExp]> = [
      [pgError("28P01", 'password authentication failed for user "app"'), /^authentication failed: .*28P01/],
      [pgError("28000", 'role "app" does not exist'), /^authentication failed .*28000/],
      [pgError("3D000", 'database "app" does not exist'), /^database does not exist: .*3D000/],
      [Object.assign(new TypeError("Invalid URL"), { code: "ERR_INVALID_URL" }), /^invalid DATABASE_URL/],
      [new Error("The server does not support SSL connections"), /SSL/],
    ];
    for (const [err, cause] of cases) {
      const f = classifyConnectError(err);
      expect(f.kind, err.message).toBe("fatal");
      expect(f.cause).toMatch(cause);
    }
  });

  it("redacts URL credentials inside driver messages", () => {
    const f = classifyConnectError(pgError("ECONNREFUSED", "failed: postgres://app:hunter22@db/app"));
    expect(f.cause).not.toContain("hunter22");
  });
});

describe("startupDelayMs", () => {
  it("doubles from 0.5 s to a 15 s cap, with jitter within [half, full]", () => {
    const low = (a: number) => startupDelayMs(a, () => 0);
    const high = (a: number) => startupDelayMs(a, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7, 40].map(high)).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
    expect([1, 2, 6].map(low)).toEqual([250, 500, 7500]);
    for (let a = 1; a < 12; a++) {
      const d = startupDelayMs(a);
      expect(d).toBeGreaterThanOrEqual(low(a));
      expect(d).toBeLessThanOrEqual(Math.min(high(a), STARTUP_BACKOFF.maxMs));
    }
  });
});
