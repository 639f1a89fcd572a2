import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { check } from "./lib/checker.js";
import { type Server, startServer } from "./lib/cluster.js";
import { Rig } from "./lib/rig.js";

let server: Server;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

/**
 * The checker must be able to fail: each broken history below is fabricated
 * directly in the database, and the checker has to name the violation.
 */
describe("history checker", () => {
  async function fixture(label: string) {
    const rig = await Rig.create(label, server);
    const gen = await rig.db.allocate("v1");
    const other = await rig.db.allocate("v2");
    const pool = rig.db.pool;
    const history: string[] = [];
    const publish = async (
      key: string,
      outcome: "ok" | "rb" | "unk",
      opts: { store?: boolean; order?: boolean } = {},
    ) => {
      history.push(JSON.stringify({ k: key, g: gen, tp: "chaos.order", o: "inv" }));
      history.push(JSON.stringify({ k: key, o: outcome }));
      if (opts.order ?? opts.store ?? outcome === "ok")
        await pool.query("INSERT INTO public.orders (key, generation) VALUES ($1, $2)", [key, gen]);
      if (opts.store ?? outcome === "ok") {
        const { rows } = await pool.query<{ id: string }>(
          `INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key) VALUES ($1, 'chaos.order', '{}', $2) RETURNING id::text`,
          [gen, key],
        );
        return rows[0]!.id;
      }
      return undefined;
    };
    const effect = (key: string, id: string, codeGen = gen) =>
      pool.query(
        `INSERT INTO public.chaos_effects (handler, idempotency_key, event_id, event_generation, code_generation, worker)
         VALUES ('chaos.effect', $1, $2, $3, $4, 'w')`,
        [key, id, gen, codeGen],
      );
    // Completion "keep" (a done row) or, the default, "delete" (the row is gone).
    const finish = async (key: string, id: string, how: "keep" | "delete" = "keep") => {
      await effect(key, id);
      if (how === "keep")
        await pool.query("UPDATE cutover.outbox SET status = 'done', processed_at = now() WHERE id = $1", [
          id,
        ]);
      else await pool.query("DELETE FROM cutover.outbox WHERE id = $1", [id]);
    };
    const as = async (app: string, sql: string, params: unknown[]) => {
      const c = new pg.Client({ connectionString: rig.db.url, application_name: app });
      await c.connect();
      try {
        await c.query(sql, params);
      } finally {
        await c.end();
      }
    };
    const run = async () => {
      writeFileSync(join(rig.historyDir, "p.jsonl"), `${history.join("\n")}\n`);
      return check(pool, rig.historyDir);
    };
    return { rig, gen, other, pool, publish, effect, finish, as, run };
  }

  it("passes a clean history and counts it", async () => {
    const f = await fixture("clean");
    try {
      await f.finish("k1", (await f.publish("k1", "ok"))!);
      await f.publish("k2", "rb");
      await f.finish("k3", (await f.publish("k3", "unk", { store: true }))!);
      await f.publish("k4", "unk", { store: false });
      await f.finish("k5", (await f.publish("k5", "ok"))!, "delete");
      await f.finish("k6", (await f.publish("k6", "unk", { store: true }))!, "delete");
      const r = await f.run();
      expect(r.violations).toEqual([]);
      expect(r).toMatchObject({
        published: 6,
        committed: 4,
        rolledBack: 2,
        unknown: 3,
        unknownCommitted: 2,
        handled: 4,
        done: 4,
      });
    } finally {
      await f.rig.close();
    }
  });

  it("reports a committed event left pending, and one done without its effect (invariant 1)", async () => {
    const f = await fixture("lost");
    try {
      await f.publish("k1", "ok");
      const id = (await f.publish("k2", "ok"))!;
      await f.pool.query("UPDATE cutover.outbox SET status = 'done' WHERE id = $1", [id]);
      const r = await f.run();
      expect(r.lost).toBe(2);
      expect(r.violations.join("\n")).toMatch(/invariant 1: 2 committed/);
    } finally {
      await f.rig.close();
    }
  });

  it("reports a committed event whose row is gone without its effect: a deleted row counts as completed only with it (invariant 1)", async () => {
    const f = await fixture("lost-deleted");
    try {
      await f.finish("k1", (await f.publish("k1", "ok"))!, "delete");
      const id = (await f.publish("k2", "ok"))!;
      await f.pool.query("DELETE FROM cutover.outbox WHERE id = $1", [id]);
      const r = await f.run();
      expect(r.lost).toBe(1);
      expect(r.done).toBe(1);
      expect(r.violations.join("\n")).toMatch(
        /invariant 1: 1 committed event\(s\) not done\/dead: \["k2: committed, gone/,
      );
    } finally {
      await f.rig.close();
    }
  });

  it("reports a completion by delete made by a non-owner, and a delete of a pending row (fencing)", async () => {
    const f = await fixture("delete-fence");
    try {
      await f.pool.query(
        "INSERT INTO cutover.workers (id, generation, version, host, pid, status) VALUES ('zombie', $1, '', 'h', 1, 'running'), ('owner', $1, '', 'h', 2, 'running')",
        [f.gen],
      );
      const id1 = (await f.publish("k1", "ok"))!;
      await f.as(
        "cutover:owner",
        "UPDATE cutover.outbox SET status = 'in_flight', claimed_by = 'owner' WHERE id = $1",
        [id1],
      );
      await f.effect("k1", id1);
      await f.as("cutover:zombie", "DELETE FROM cutover.outbox WHERE id = $1", [id1]);
      const id2 = (await f.publish("k2", "ok"))!;
      await f.effect("k2", id2);
      await f.as("cutover:owner", "DELETE FROM cutover.outbox WHERE id = $1", [id2]);
      // The pruner deleting a done row is no violation.
      const id3 = (await f.publish("k3", "ok"))!;
      await f.finish("k3", id3);
      await f.as("cutover:owner", "DELETE FROM cutover.outbox WHERE id = $1", [id3]);
      const r = await f.run();
      expect(r.lost).toBe(0);
      expect(r.fencingViolations).toBe(2);
      expect(r.violations.join("\n")).toMatch(/in_flight->deleted by cutover:zombie, owner owner/);
      expect(r.violations.join("\n")).toMatch(/pending->deleted by cutover:owner/);
    } finally {
      await f.rig.close();
    }
  });

  it("reports a rolled-back event that was stored, and an event without its business write (invariant 2)", async () => {
    const f = await fixture("atomic");
    try {
      await f.publish("k1", "rb", { store: true });
      await f.finish("k2", (await f.publish("k2", "unk", { store: true, order: false }))!);
      const r = await f.run();
      expect(r.fromRollback).toBe(1);
      expect(r.violations.join("\n")).toMatch(/invariant 2: 1 rolled-back/);
      expect(r.violations.join("\n")).toMatch(/event and business write disagree/);
    } finally {
      await f.rig.close();
    }
  });

  it("reports an effect by another generation's code, a claim by another generation's worker, and a non-owner release (invariant 3, fencing)", async () => {
    const f = await fixture("crossgen");
    try {
      const id1 = (await f.publish("k1", "ok"))!;
      await f.effect("k1", id1, f.other);
      await f.pool.query("UPDATE cutover.outbox SET status = 'done' WHERE id = $1", [id1]);
      const id2 = (await f.publish("k2", "ok"))!;
      await f.pool.query(
        "INSERT INTO cutover.workers (id, generation, version, host, pid, status) VALUES ('intruder', $1, '', 'h', 1, 'running'), ('owner', $2, '', 'h', 2, 'running')",
        [f.other, f.gen],
      );
      const as = (app: string, sql: string) => f.as(app, sql, [id2]);
      await as(
        "cutover:owner",
        "UPDATE cutover.outbox SET status = 'in_flight', claimed_by = 'owner' WHERE id = $1",
      );
      await as(
        "cutover:intruder",
        "UPDATE cutover.outbox SET status = 'pending', claimed_by = NULL WHERE id = $1",
      );
      await as(
        "cutover:owner",
        "UPDATE cutover.outbox SET status = 'in_flight', claimed_by = 'owner' WHERE id = $1",
      );
      await f.effect("k2", id2);
      await as("cutover:owner", "UPDATE cutover.outbox SET status = 'done', claimed_by = NULL WHERE id = $1");
      const r = await f.run();
      expect(r.violations.join("\n")).toMatch(/invariant 3: 1 cross-generation handling/);
      expect(r.violations.join("\n")).toMatch(/invariant 3: 1 claim\/release\/reap by another generation/);
      expect(r.violations.join("\n")).toMatch(/fencing: 1 write\(s\) by a non-owner/);
    } finally {
      await f.rig.close();
    }
  });

  it("reports an effect applied twice (invariant 4): the effects table has no unique constraint to hide it", async () => {
    const f = await fixture("double");
    try {
      const id = (await f.publish("k1", "ok"))!;
      await f.finish("k1", id);
      await f.effect("k1", id);
      const r = await f.run();
      expect(r.duplicatedEffects).toBe(1);
      expect(r.violations.join("\n")).toMatch(/invariant 4: 1 effect\(s\) applied more than once/);
    } finally {
      await f.rig.close();
    }
  });
});
