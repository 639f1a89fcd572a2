import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { CutoverError } from "./errors.js";
import { DEFAULT_SCHEMA, quoteIdent, validateSchemaName } from "./identifiers.js";
import { type Logger, silentLogger } from "./logger.js";
import { SqlState, sqlStateOf } from "./sqlstate.js";

/** node-pg-migrate's bookkeeping table, kept inside the Cutover schema. */
export const MIGRATIONS_TABLE = "pgmigrations";

export interface MigrateOptions {
  /** Connection string; ignored when `client` is given. */
  databaseUrl?: string;
  /** A connected pg.Client to run on (not ended by migrate). */
  client?: pg.Client;
  /** Schema holding Cutover's tables. Default `cutover`. */
  schema?: string;
  logger?: Logger;
}

export interface MigrationFile {
  name: string;
  path: string;
  sql: string;
}

/**
 * Where the SQL lives: packages/outbox/migrations/, shipped inside the npm
 * package (`files`), so migrate() works wherever the package is installed.
 * The same folder is the repo's single source: the top-level migrations/ is a
 * symlink to it (the path `compat-lint migrations/` gates), and the worker
 * image copies the package with it.
 */
export function migrationsDir(): string {
  const p = fileURLToPath(new URL("../migrations/", import.meta.url));
  if (existsSync(p) && readdirSync(p).some((f) => f.endsWith(".sql"))) return p;
  throw new CutoverError(
    "MIGRATION_FAILED",
    `cannot find Cutover's migrations: ${p} is missing or holds no .sql files (is the package installed whole?)`,
  );
}

/**
 * The migrations as plain SQL, in order, for teams that run schema changes
 * through their own tool. Each file's statements use unqualified names: run
 * them with `SET search_path TO <schema>`.
 */
export function migrationFiles(): MigrationFile[] {
  const dir = migrationsDir();
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) => ({
      name: f.replace(/\.sql$/, ""),
      path: `${dir}${f}`,
      sql: readFileSync(`${dir}${f}`, "utf8"),
    }));
}

function lockKeySql(schema: string): [string, unknown[]] {
  return ["SELECT pg_advisory_lock(hashtextextended($1, 0))", [`cutover.migrate:${schema}`]];
}

async function withClient<T>(opts: MigrateOptions, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  if (opts.client) return fn(opts.client);
  if (!opts.databaseUrl) throw new CutoverError("CONFIG_INVALID", "migrate needs databaseUrl or client");
  const client = new pg.Client({ connectionString: opts.databaseUrl, application_name: "cutover-migrate" });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Brings the schema up to date. Safe to run from several replicas at once:
 * callers queue on a session advisory lock (per schema) and each migration is
 * applied exactly once, in its own transaction. Returns the names it applied
 * (empty when already current).
 */
export async function migrate(opts: MigrateOptions): Promise<{ applied: string[] }> {
  const schema = validateSchemaName(opts.schema ?? DEFAULT_SCHEMA);
  const logger = opts.logger ?? silentLogger;
  const dir = migrationsDir();
  return withClient(opts, async (client) => {
    const [lockSql, lockParams] = lockKeySql(schema);
    await client.query(lockSql, lockParams);
    try {
      // Loaded here, not at import: a worker that never migrates does not pay for it.
      const { runner } = await import("node-pg-migrate");
      const ran = await runner({
        dbClient: client,
        dir,
        direction: "up",
        migrationsTable: MIGRATIONS_TABLE,
        schema,
        createSchema: true,
        noLock: true,
        checkOrder: true,
        count: Number.POSITIVE_INFINITY,
        log: () => {},
      });
      const applied = ran.map((m) => m.name);
      if (applied.length > 0) logger.info({ schema, applied }, "cutover migrations applied");
      return { applied };
    } catch (err) {
      throw new CutoverError(
        "MIGRATION_FAILED",
        `migrating schema "${schema}" failed: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
        { cause: err },
      );
    } finally {
      await client
        .query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [`cutover.migrate:${schema}`])
        .catch(() => {});
      await client.query("RESET search_path").catch(() => {});
    }
  });
}

/** Migrations present in the package but not yet applied to the database. */
export async function pendingMigrations(
  db: pg.Client | pg.Pool | pg.PoolClient,
  schemaName?: string,
): Promise<string[]> {
  const schema = validateSchemaName(schemaName ?? DEFAULT_SCHEMA);
  let applied: Set<string>;
  try {
    const res = await db.query<{ name: string }>(
      `SELECT name FROM ${quoteIdent(schema)}.${quoteIdent(MIGRATIONS_TABLE)}`,
    );
    applied = new Set(res.rows.map((r) => r.name));
  } catch (err) {
    if (sqlStateOf(err) === SqlState.undefinedTable) applied = new Set();
    else throw err;
  }
  return migrationFiles()
    .map((m) => m.name)
    .filter((n) => !applied.has(n));
}

/** Throws SCHEMA_BEHIND naming the missing migrations, for start-up checks. */
export async function assertSchemaCurrent(
  db: pg.Client | pg.Pool | pg.PoolClient,
  schemaName?: string,
): Promise<void> {
  const pending = await pendingMigrations(db, schemaName);
  if (pending.length > 0) {
    throw new CutoverError(
      "SCHEMA_BEHIND",
      `schema "${schemaName ?? DEFAULT_SCHEMA}" is behind: ${pending.length} migration(s) not applied (${pending.join(", ")}); run \`outbox-worker migrate\` or migrate() first`,
      { details: { pending } },
    );
  }
}
