import { allocateGeneration, createPublisher, defineEvents, isCutoverError } from "@cutover/outbox";
import { DEFAULT_MAX_PAYLOAD_BYTES } from "@cutover/outbox/internal";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { useTestDatabase } from "../harness/db.js";
import { snapshot } from "./snapshot.js";

const db = useTestDatabase();
const events = defineEvents({ "bad.input": z.object({ data: z.unknown() }) });
let generation: number;

beforeAll(async () => {
  generation = (await allocateGeneration(db.current.pool, { version: "bad-input" })).generation;
  // Something already stored, that bad input must not harm.
  const publisher = await createPublisher({ events, db: db.current.pool, generation });
  const c = await db.current.pool.connect();
  try {
    await c.query("BEGIN");
    await publisher.publish(c, "bad.input", { data: { ok: true } }, { idempotencyKey: "stored-1" });
    await c.query("COMMIT");
  } finally {
    c.release();
  }
});

const circular: Record<string, unknown> = { name: "loop" };
circular.self = circular;

const cases: Array<[string, unknown, string, RegExp]> = [
  [
    "a payload over the 1 MiB limit",
    { data: "x".repeat(DEFAULT_MAX_PAYLOAD_BYTES) },
    "PAYLOAD_TOO_LARGE",
    /bytes serialized; the limit is 1048576 \(maxPayloadBytes\)/,
  ],
  ["a BigInt", { data: 10n }, "PAYLOAD_NOT_SERIALIZABLE", /not JSON-serializable.*BigInt/],
  ["a circular object", { data: circular }, "PAYLOAD_NOT_SERIALIZABLE", /not JSON-serializable.*circular/i],
  ["a lone high surrogate", { data: "ab\uD800cd" }, "PAYLOAD_NOT_SERIALIZABLE", /lone UTF-16 surrogate/],
  [
    "a lone low surrogate in a key",
    { data: { "k\uDC00": 1 } },
    "PAYLOAD_NOT_SERIALIZABLE",
    /lone UTF-16 surrogate/,
  ],
  ["a NUL character", { data: "a\u0000b" }, "PAYLOAD_NOT_SERIALIZABLE", /NUL/],
];

describe("bad payloads: a typed error, nothing written, the caller's transaction intact", () => {
  for (const [what, payload, code, message] of cases) {
    it(`rejects ${what} (${code})`, async () => {
      const pool = db.current.pool;
      const publisher = await createPublisher({ events, db: pool, generation });
      const before = await snapshot(pool);
      const c = await pool.connect();
      try {
        await c.query("BEGIN");
        const err = await publisher.publish(c, "bad.input", payload as { data: unknown }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isCutoverError(err, code as never), String(err)).toBe(true);
        expect((err as Error).message).toMatch(message);
        expect((err as Error).message).toContain('topic "bad.input"');
        // Rejected before the database saw it: the transaction is still usable.
        const { rows } = await c.query<{ ok: number }>("SELECT 1 AS ok");
        expect(rows[0]!.ok).toBe(1);
        // A batch with one bad item writes nothing, not even the good ones.
        const batchErr = await publisher
          .publishBatch(c, [
            { topic: "bad.input", payload: { data: "fine" } },
            { topic: "bad.input", payload: payload as { data: unknown } },
          ])
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(isCutoverError(batchErr, code as never)).toBe(true);
        expect((batchErr as Error).message).toContain("batch item 1");
        await c.query("COMMIT");
      } finally {
        c.release();
      }
      expect(await snapshot(pool)).toEqual(before);
    });
  }

  it("a payload of exactly the limit is accepted (the limit is inclusive and documented)", async () => {
    const pool = db.current.pool;
    const publisher = await createPublisher({ events, db: pool, generation, maxPayloadBytes: 64 });
    const exact = { data: "y".repeat(64 - '{"data":""}'.length) };
    expect(Buffer.byteLength(JSON.stringify(exact))).toBe(64);
    const c = await pool.connect();
    try {
      await c.query("BEGIN");
      await publisher.publish(c, "bad.input", exact);
      await expect(publisher.publish(c, "bad.input", { data: `${exact.data}y` })).rejects.toMatchObject({
        code: "PAYLOAD_TOO_LARGE",
      });
      await c.query("ROLLBACK");
    } finally {
      c.release();
    }
  });
});
