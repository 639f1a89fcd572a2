import { afterEach, describe, expect, it, vi } from "vitest";
import { uuidv7 } from "../src/uuid.js";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const msOf = (key: string) => Number.parseInt(key.replaceAll("-", "").slice(0, 12), 16);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("uuidv7 (default idempotency keys)", () => {
  it("is an RFC 9562 version 7 UUID carrying the current Unix time in ms", () => {
    const before = Date.now();
    const key = uuidv7();
    const after = Date.now();
    expect(key).toMatch(V7);
    expect(msOf(key)).toBeGreaterThanOrEqual(before);
    expect(msOf(key)).toBeLessThanOrEqual(after);
  });

  it("sorts in generation order within one millisecond, and when the clock steps back", () => {
    // The clock is held still, then moved back by a second: the keys must
    // keep increasing (the dedupe index gets them at its right edge).
    const now = vi.spyOn(Date, "now").mockReturnValue(1_900_000_000_000);
    const keys = Array.from({ length: 5_000 }, () => uuidv7());
    now.mockReturnValue(1_899_999_999_000);
    keys.push(...Array.from({ length: 5_000 }, () => uuidv7()));
    for (const key of keys) expect(key).toMatch(V7);
    expect([...keys].sort()).toEqual(keys);
    expect(new Set(keys).size).toBe(keys.length);
    expect(msOf(keys.at(-1)!)).toBe(1_900_000_000_000);
  });

  it("differs in its random bits between keys of different milliseconds", () => {
    const now = vi.spyOn(Date, "now");
    const tails = new Set<string>();
    for (let ms = 0; ms < 1_000; ms++) {
      now.mockReturnValue(2_000_000_000_000 + ms);
      tails.add(uuidv7().slice(15));
    }
    expect(tails.size).toBe(1_000);
  });
});
