/**
 * The chunk sends its id, key and handler-name arrays as array literal text
 * (src/array-literal.ts) instead of letting pg escape each element: the
 * text must reach Postgres as exactly the array pg's own encoding would, for
 * any idempotency key a publisher accepts.
 */
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { idArrayLiteral, textArrayLiteral } from "../src/array-literal.js";
import {
  countWhere,
  createEffects,
  newGeneration,
  publisherFor,
  recorder,
  useConsumers,
  waitFor,
} from "./support/consumer.js";

const db = useTestDatabase();
const consumers = useConsumers(db);

const awkward = [
  "plain",
  'a "quoted" key',
  "back\\slash",
  '\\"',
  "comma,{brace}",
  "NULL",
  "",
  "  spaces  ",
  "line\nbreak\ttab",
  "ünïcødé ✓",
  "ends with \\",
];

/** What a publisher accepts (a key is non-empty). */
const keys = awkward.filter((k) => k !== "");

describe("array literal parameters", () => {
  it("round-trip through text[] and bigint[] exactly as sent", async () => {
    const pool = db.current.pool;
    const { rows } = await pool.query<{ t: string[]; n: string[] }>(
      "SELECT $1::text[] AS t, $2::bigint[]::text[] AS n",
      [textArrayLiteral(awkward), idArrayLiteral(["1", "42", "9223372036854775807"])],
    );
    expect(rows[0]!.t).toEqual(awkward);
    expect(rows[0]!.n).toEqual(["1", "42", "9223372036854775807"]);
    const one = await pool.query<{ t: string[] }>("SELECT $1::text[] AS t", [textArrayLiteral(["x"])]);
    expect(one.rows[0]!.t).toEqual(["x"]);
  });

  it("a chunk records awkward keys exactly, and a key recorded before is skipped, not run again", async () => {
    const pool = db.current.pool;
    await createEffects(pool);
    const gen = await newGeneration(pool, "awkward");
    const pub = await publisherFor(pool, gen);
    const publishAll = async (round: number) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        for (const key of keys)
          await pub.publish(client, "order.placed", { orderId: key, n: round }, { idempotencyKey: key });
        await client.query("COMMIT");
      } finally {
        client.release();
      }
    };
    await publishAll(1);
    const c = consumers.create({ generation: gen, pollIntervalMs: 50, handlers: [recorder("lit.once")] });
    const skipped: string[][] = [];
    c.on("handled", (h) => skipped.push(h.skipped));
    await c.start();
    await waitFor(async () => (await countWhere(pool, "SELECT 1 FROM public.effects")) === keys.length);
    const handled = await pool.query<{ k: string }>(
      "SELECT idempotency_key AS k FROM cutover.event_handled WHERE handler_name = 'lit.once'",
    );
    expect(handled.rows.map((r) => r.k).sort()).toEqual([...keys].sort());
    const effects = await pool.query<{ key: string }>("SELECT key FROM public.effects");
    expect(effects.rows.map((r) => r.key).sort()).toEqual([...keys].sort());

    // Completed (deleted), so the same keys are stored again; the insert's
    // answer must name each of them as recorded before, so none runs twice.
    await waitFor(
      async () => (await countWhere(pool, "SELECT 1 FROM cutover.outbox WHERE generation = $1", [gen])) === 0,
    );
    await publishAll(2);
    await waitFor(
      async () => (await countWhere(pool, "SELECT 1 FROM cutover.outbox WHERE generation = $1", [gen])) === 0,
    );
    expect(await countWhere(pool, "SELECT 1 FROM public.effects")).toBe(keys.length);
    expect(skipped.filter((s) => s.includes("lit.once"))).toHaveLength(keys.length);
  });
});
