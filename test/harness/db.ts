import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { databaseUrl } from "./postgres-server.js";

export interface TestDatabase {
  name: string;
  url: string;
  /** A pool on the test database (closed by drop()). */
  pool: pg.Pool;
  drop(): Promise<void>;
}

const prefix = () => inject("pgTemplate").replace("cutover_tpl_", "cutover_t_");

// pg parses int8 as string by default; tests compare numbers where the schema uses integer.
async function createFrom(template: string, adminUrl: string, prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // CREATE DATABASE ... TEMPLATE fails if another session is copying the
    // same template at that instant; retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        break;
      } catch (err) {
        if (attempt >= 20 || !/being accessed by other users/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  const url = databaseUrl(adminUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  pool.on("error", () => {});
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A fresh database cloned from the migrated template. */
export function createTestDatabase(): Promise<TestDatabase> {
  return createFrom(inject("pgTemplate"), inject("pgAdminUrl"), prefix());
}

/**
 * Registers beforeAll/afterAll for a fresh database for this test file.
 * Read `.current` inside tests.
 */
export function useTestDatabase(): { readonly current: TestDatabase } {
  const holder: { current: TestDatabase | undefined } = { current: undefined };
  beforeAll(async () => {
    holder.current = await createTestDatabase();
  });
  afterAll(async () => {
    await holder.current?.drop();
  });
  return {
    get current() {
      if (!holder.current) throw new Error("test database not ready (use inside a test)");
      return holder.current;
    },
  };
}

/** An empty database (no Cutover schema), for migration tests. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  return createFrom("template1", inject("pgAdminUrl"), prefix());
}
