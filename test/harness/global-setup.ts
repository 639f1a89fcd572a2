import pg from "pg";
import type { TestProject } from "vitest/node";
import { migrate } from "../../packages/outbox/src/index.js";
import { type BrokerName, type BrokerUrls, skipLine, startBrokers } from "./brokers.js";
import { databaseUrl, startPostgres } from "./postgres-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
    pgKind: string;
    brokerUrls: BrokerUrls;
  }
}

/**
 * One server per run; one migrated template database, cloned per test file
 * (see db.ts), so every file starts from the real schema in milliseconds.
 */
export default async function setup(project: TestProject) {
  const server = await startPostgres();
  const template = `cutover_tpl_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${template}"`);
  } finally {
    await admin.end();
  }
  await migrate({ databaseUrl: databaseUrl(server.adminUrl, template) });
  project.provide("pgAdminUrl", server.adminUrl);
  project.provide("pgTemplate", template);
  project.provide("pgKind", server.kind);
  process.stdout.write(`[harness] PostgreSQL from ${server.kind}; template ${template}\n`);
  const brokers = await startBrokers();
  project.provide("brokerUrls", brokers.urls);
  const skipped = (Object.keys(brokers.urls) as BrokerName[]).filter((n) => !brokers.urls[n]);
  const found = (Object.keys(brokers.urls) as BrokerName[]).filter((n) => brokers.urls[n]);
  if (found.length > 0)
    process.stdout.write(
      `[harness] brokers: ${found.map((n) => `${n} from ${brokers.sources[n]}`).join(", ")}\n`,
    );
  const sayskipped = () => {
    for (const n of skipped) process.stdout.write(`[harness] ${skipLine(n)}\n`);
  };
  sayskipped();

  return async () => {
    // Again at the end, next to the summary, so a skipped broker is not missed.
    sayskipped();
    await brokers.stop();
    const c = new pg.Client({ connectionString: server.adminUrl });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
      // Test databases whose file crashed before dropping them.
      const { rows } = await c.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE $1",
        [`${template.replace("cutover_tpl_", "cutover_t_")}%`],
      );
      for (const r of rows) await c.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
    } finally {
      await c.end();
    }
    await server.stop();
  };
}
