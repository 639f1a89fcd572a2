import { randomFillSync } from "node:crypto";

// Default idempotency keys. A random (v4) key lands at a random leaf of the
// unique btree (topic, idempotency_key), on every publish and again on every
// non-HOT status update of the row: a 100,000-event backlog dirties leaves
// all over the index. A UUIDv7 (RFC 9562) starts with the Unix time in ms, so
// keys published together sort together and go in at the index's right edge.

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
/** Random bytes fetched in bulk (one randomFillSync per 409 keys). */
const pool = new Uint8Array(4096);
let poolAt = pool.length;
let lastMs = -1;
/** 42-bit counter: rand_a (12 bits) and the top 30 bits of rand_b. */
let counter = 0;
const COUNTER_MAX = 2 ** 42 - 1;

/** The offset of 10 fresh random bytes in `pool`. */
function take10(): number {
  if (poolAt + 10 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += 10;
  return at;
}

/**
 * A UUIDv7 string (RFC 9562 section 5.7): 48-bit Unix time in milliseconds,
 * then a 42-bit counter seeded at random on each new millisecond (its top bit
 * clear, leaving room to count) and incremented within one (RFC 9562 section
 * 6.2, method 1), then 32 random bits. Monotonic within this process: each
 * key sorts after the previous one, also when the clock steps back or more
 * than 2^41 keys fall in one millisecond (the timestamp then runs ahead).
 */
export function uuidv7(): string {
  const at = take10();
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    // 41 random bits (1 + 8 + 32): below 2^41, so at least 2^41 keys fit in this ms.
    counter = (pool[at]! & 0x01) * 2 ** 40 + pool[at + 1]! * 2 ** 32 + readU32(at + 2);
  } else if (counter < COUNTER_MAX) {
    counter += 1;
  } else {
    lastMs += 1;
    counter = 0;
  }
  const ms = lastMs;
  const hi = Math.floor(counter / 2 ** 30); // 12 bits: rand_a
  const lo = counter % 2 ** 30; // 30 bits: top of rand_b
  const tail = readU32(at + 6);
  const msHi = Math.floor(ms / 2 ** 16);
  const msLo = ms % 2 ** 16;
  return (
    HEX[(msHi >>> 24) & 0xff]! +
    HEX[(msHi >>> 16) & 0xff]! +
    HEX[(msHi >>> 8) & 0xff]! +
    HEX[msHi & 0xff]! +
    "-" +
    HEX[msLo >>> 8]! +
    HEX[msLo & 0xff]! +
    "-" +
    HEX[0x70 | (hi >>> 8)]! +
    HEX[hi & 0xff]! +
    "-" +
    HEX[0x80 | (lo >>> 24)]! +
    HEX[(lo >>> 16) & 0xff]! +
    "-" +
    HEX[(lo >>> 8) & 0xff]! +
    HEX[lo & 0xff]! +
    HEX[tail >>> 24]! +
    HEX[(tail >>> 16) & 0xff]! +
    HEX[(tail >>> 8) & 0xff]! +
    HEX[tail & 0xff]!
  );
}

function readU32(at: number): number {
  return ((pool[at]! << 24) | (pool[at + 1]! << 16) | (pool[at + 2]! << 8) | pool[at + 3]!) >>> 0;
}
