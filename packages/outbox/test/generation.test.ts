import { allocateGeneration, isCutoverError, listDeployments, resolveGeneration } from "@cutover/outbox";
import { parseGeneration } from "@cutover/outbox/internal";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";

const db = useTestDatabase();

describe("generations", () => {
  it("gives concurrent allocations from many connections distinct, increasing numbers", async () => {
    const clients = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const c = new pg.Client({ connectionString: db.current.url });
        await c.connect();
        return c;
      }),
    );
    try {
      const perClient = await Promise.all(
        clients.map(async (c, i) => {
          const mine = [];
          for (const j of [0, 1, 2]) mine.push(await allocateGeneration(c, { version: `sha-${i}-${j}` }));
          // Increasing: later calls on one connection get larger numbers.
          expect(mine[0]!.generation < mine[1]!.generation && mine[1]!.generation < mine[2]!.generation).toBe(
            true,
          );
          return mine;
        }),
      );
      const got = perClient.flat();
      const numbers = got.map((d) => d.generation);
      expect(new Set(numbers).size).toBe(48);
      const listed = await listDeployments(db.current.pool);
      expect(listed.map((d) => d.generation)).toEqual([...numbers].sort((a, b) => b - a));
      // Increasing in commit order: each version maps to the number it was given.
      for (const d of got) expect(listed.find((l) => l.generation === d.generation)?.version).toBe(d.version);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it("rolls back with the caller's transaction", async () => {
    const c = await db.current.pool.connect();
    try {
      await c.query("BEGIN");
      const { generation } = await allocateGeneration(c, { version: "rolled-back" });
      await c.query("ROLLBACK");
      const err = await resolveGeneration(db.current.pool, { generation }).catch((e) => e);
      expect(isCutoverError(err, "GENERATION_NOT_ALLOCATED")).toBe(true);
    } finally {
      c.release();
    }
  });

  it("resolves CUTOVER_GENERATION and fails clearly when it is missing, malformed or never allocated", async () => {
    const { generation } = await allocateGeneration(db.current.pool, { version: "v1" });
    const ok = await resolveGeneration(db.current.pool, { env: { CUTOVER_GENERATION: String(generation) } });
    expect(ok.version).toBe("v1");

    const missing = await resolveGeneration(db.current.pool, { env: {} }).catch((e) => e);
    expect(isCutoverError(missing, "GENERATION_MISSING")).toBe(true);
    expect(missing.message).toContain("CUTOVER_GENERATION");

    for (const bad of ["0", "-1", "1.5", "abc", "99999999999", " 7x"]) {
      const err = await resolveGeneration(db.current.pool, { env: { CUTOVER_GENERATION: bad } }).catch(
        (e) => e,
      );
      expect(isCutoverError(err, "GENERATION_INVALID"), bad).toBe(true);
      expect(err.message).toContain("CUTOVER_GENERATION");
    }
    const never = await resolveGeneration(db.current.pool, { env: { CUTOVER_GENERATION: "424242" } }).catch(
      (e) => e,
    );
    expect(isCutoverError(never, "GENERATION_NOT_ALLOCATED")).toBe(true);
    expect(never.message).toContain("424242");
    expect(parseGeneration("12")).toBe(12);
  });

  it("rejects an empty version", async () => {
    const err = await allocateGeneration(db.current.pool, { version: "  " }).catch((e) => e);
    expect(isCutoverError(err, "CONFIG_INVALID")).toBe(true);
  });
});
