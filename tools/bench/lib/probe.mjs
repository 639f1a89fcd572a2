// The setup both in-process probes share (latency-probe.mjs,
// burndown-probe.mjs): a fresh database on DATABASE_URL's server or the
// embedded one, migrated, one generation, a publisher for `schemas`.
import pg from "pg";
import * as outbox from "../../../packages/outbox/dist/index.js";
import { createDatabase, startServer } from "./server.mjs";

export async function probeSetup(dbName, schemas, { poolSize = 2, notify = true } = {}) {
  const server = await startServer();
  const url = await createDatabase(server.adminUrl, dbName);
  const events = outbox.defineEvents(schemas);
  await outbox.migrate({ databaseUrl: url });
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  const { generation } = await outbox.allocateGeneration(pool, { version: "probe" });
  const publisher = await outbox.createPublisher({ events, db: pool, generation, notify });
  return { server, url, events, pool, generation, publisher };
}
