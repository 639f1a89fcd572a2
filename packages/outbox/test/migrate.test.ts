import { readFileSync, writeFileSync } from "node:fs";
import {
  allocateGeneration,
  createPublisher,
  defineEvents,
  isCutoverError,
  listDead,
  listDeployments,
  migrate,
  migrationFiles,
  outboxStatus,
  pruneProcessed,
  resolveGeneration,
  retryDead,
} from "@cutover/outbox";
import { assertSchemaCurrent, pendingMigrations } from "@cutover/outbox/internal";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createEmptyDatabase } from "../../../test/harness/db.js";
import { dumpSchema } from "../../../test/harness/schema-dump.js";

describe("migrate()", () => {
  it("applies every migration exactly once when 5 replicas race", async () => {
    const db = await createEmptyDatabase();
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => migrate({ databaseUrl: db.url })));
      const applied = results.flatMap((r) => r.applied);
      const names = migrationFiles().map((m) => m.name);
      expect(applied.sort()).toEqual([...names].sort());
      const { rows } = await db.pool.query<{ name: string; n: string }>(
        "SELECT name, count(*) AS n FROM cutover.pgmigrations GROUP BY name ORDER BY name",
      );
      expect(rows.map((r) => r.name)).toEqual(names);
      expect(rows.every((r) => r.n === "1")).toBe(true);
      // Idempotent afterwards.
      expect((await migrate({ databaseUrl: db.url })).applied).toEqual([]);
      await assertSchemaCurrent(db.pool);
    } finally {
      await db.drop();
    }
  });

  it("reports a schema that is behind, naming the missing migrations", async () => {
    const db = await createEmptyDatabase();
    try {
      expect(await pendingMigrations(db.pool)).toEqual(migrationFiles().map((m) => m.name));
      const err = await assertSchemaCurrent(db.pool).catch((e) => e);
      expect(isCutoverError(err, "SCHEMA_BEHIND")).toBe(true);
      expect(err.message).toContain(migrationFiles()[0]!.name);
    } finally {
      await db.drop();
    }
  });

  it("before migrate() (or with another schema than the one migrated), every API says SCHEMA_BEHIND naming the schema", async () => {
    const db = await createEmptyDatabase();
    try {
      await migrate({ databaseUrl: db.url, schema: "billing_outbox" });
      const events = defineEvents({ "order.placed": z.object({ id: z.string() }) });
      // The default schema "cutover" was never migrated in this database.
      const calls: Array<[string, () => Promise<unknown>]> = [
        ["createPublisher", () => createPublisher({ events, db: db.pool, generation: 1 })],
        ["allocateGeneration", () => allocateGeneration(db.pool, { version: "v1" })],
        ["resolveGeneration", () => resolveGeneration(db.pool, { generation: 1 })],
        ["listDeployments", () => listDeployments(db.pool)],
        ["outboxStatus", () => outboxStatus(db.pool)],
        ["listDead", () => listDead(db.pool)],
        ["retryDead", () => retryDead(db.pool, { all: true })],
        ["pruneProcessed", () => pruneProcessed(db.pool, { doneOlderThanMs: 0 })],
      ];
      for (const [what, call] of calls) {
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect({ what, code: (err as { code?: string })?.code }).toEqual({ what, code: "SCHEMA_BEHIND" });
        expect((err as Error).message).toMatch(/^schema "cutover" is not migrated \(.*\): run migrate/);
      }
      // The schema that was migrated answers.
      expect(await listDeployments(db.pool, { schema: "billing_outbox" })).toEqual([]);
    } finally {
      await db.drop();
    }
  });

  it("installs into a configurable schema and refuses a schema name carrying SQL", async () => {
    const db = await createEmptyDatabase();
    try {
      await migrate({ databaseUrl: db.url, schema: "billing_outbox" });
      const { rows } = await db.pool.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'billing_outbox' ORDER BY 1",
      );
      expect(rows.map((r) => r.table_name)).toEqual([
        "deployments",
        "event_handled",
        "outbox",
        "pgmigrations",
        "workers",
      ]);
      const err = await migrate({
        databaseUrl: db.url,
        schema: 'x"; DROP TABLE billing_outbox.outbox; --',
      }).catch((e) => e);
      expect(isCutoverError(err, "IDENTIFIER_INVALID")).toBe(true);
      const still = await db.pool.query("SELECT count(*)::int AS n FROM billing_outbox.outbox");
      expect(still.rows[0].n).toBe(0);
    } finally {
      await db.drop();
    }
  });

  it("matches the committed docs/schema.sql (regenerate: UPDATE_SCHEMA_DUMP=1 npx vitest run migrate)", async () => {
    const db = await createEmptyDatabase();
    try {
      await migrate({ databaseUrl: db.url });
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const live = await dumpSchema(client, "cutover");
        const file = new URL("../../../docs/schema.sql", import.meta.url);
        if (process.env.UPDATE_SCHEMA_DUMP === "1") writeFileSync(file, live);
        const committed = readFileSync(file, "utf8");
        expect(live).toEqual(committed);
      } finally {
        await client.end();
      }
    } finally {
      await db.drop();
    }
  });
});
