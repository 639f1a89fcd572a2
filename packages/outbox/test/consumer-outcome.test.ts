import { describe, expect, it } from "vitest";
import { HandlerIndex } from "../src/consumer/handlers.js";
import { backoffCapMs, decideOutcome, RetryPolicies, type RetryPolicy } from "../src/consumer/outcome.js";
import type { HandlerDefinition } from "../src/handler.js";

const policy: RetryPolicy = { maxAttempts: 4, backoff: { baseMs: 1000, maxMs: 5000 } };
const handler = (name: string, topics: string[], maxAttempts?: number): HandlerDefinition => ({
  name,
  topics,
  ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  async handle() {},
});

describe("decideOutcome: the one retry/dead decision", () => {
  it("releases what is not the event's fault, at any attempt, without drawing a delay", () => {
    const never = () => {
      throw new Error("no jitter for a release");
    };
    expect(decideOutcome({ by: "infrastructure" }, 99, policy, never)).toEqual({ kind: "released" });
    expect(decideOutcome({ by: "shutdown" }, 1, policy, never)).toEqual({ kind: "released" });
  });

  it("charges a handler failure or an unexplained one: retry below the limit, dead at it", () => {
    for (const failure of [{ by: "handler", permanent: false } as const, { by: "unknown" } as const]) {
      expect(decideOutcome(failure, 3, policy, () => 0).kind).toBe("retry");
      expect(decideOutcome(failure, 4, policy)).toEqual({ kind: "dead" });
      expect(decideOutcome(failure, 5, policy)).toEqual({ kind: "dead" });
    }
  });

  it("sends a permanent failure dead on its first attempt", () => {
    expect(decideOutcome({ by: "handler", permanent: true }, 1, policy)).toEqual({ kind: "dead" });
  });

  it("draws the retry delay with full jitter between 0 and the cap", () => {
    const f = { by: "handler", permanent: false } as const;
    expect(decideOutcome(f, 1, policy, () => 0)).toEqual({ kind: "retry", retryInMs: 0 });
    expect(decideOutcome(f, 1, policy, () => 0.999_999)).toEqual({ kind: "retry", retryInMs: 1000 });
    expect(decideOutcome(f, 2, policy, () => 0.5)).toEqual({ kind: "retry", retryInMs: 1000 });
    expect(decideOutcome(f, 3, policy, () => 0.999_999)).toEqual({ kind: "retry", retryInMs: 4000 });
  });

  it("caps the backoff at maxMs, doubling from baseMs per attempt, and survives huge attempts", () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffCapMs(policy, a))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(backoffCapMs(policy, 0)).toBe(1000);
    expect(backoffCapMs({ maxAttempts: 1, backoff: { baseMs: 1, maxMs: 2_147_483_647 } }, 1_000_000)).toBe(
      2 ** 30,
    );
  });
});

describe("RetryPolicies: attempt limits of a handler set", () => {
  const handlers = [
    handler("a", ["order.placed"], 3),
    handler("b", ["order.placed", "order.*"], 7),
    handler("c", ["user.created"]),
  ];
  const index = new HandlerIndex(handlers);
  const policies = new RetryPolicies(policy, index);

  it("an event's limit is the largest of its handlers' limits; a blamed handler's own limit wins", () => {
    expect(policies.for("order.placed", null).maxAttempts).toBe(7);
    expect(policies.for("order.placed", handlers[0]!).maxAttempts).toBe(3);
    expect(policies.for("user.created", handlers[2]!).maxAttempts).toBe(4);
    expect(policies.for("order.shipped", null).maxAttempts).toBe(7);
    expect(policies.for("nobody.listens", null)).toEqual(policy);
    expect(policies.for("order.placed", null).backoff).toEqual(policy.backoff);
  });

  it("gives the reaper one limit per subscription, as LIKE patterns, sorted", () => {
    expect(policies.limits).toEqual({
      topics: ["order.%", "order.placed", "user.created"],
      max: [7, 7, 4],
    });
    expect(policies.default).toEqual(policy);
  });
});
