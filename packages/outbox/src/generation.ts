import { type DbHandle, toQueryable } from "./db.js";
import { CutoverError } from "./errors.js";
import { DEFAULT_SCHEMA, quoteIdent, validateSchemaName } from "./identifiers.js";
import { requireMigrated } from "./not-migrated.js";

export interface Deployment {
  generation: number;
  version: string;
  createdAt: Date;
}

export interface GenerationOptions {
  /** Schema holding Cutover's tables. Default `cutover`. */
  schema?: string;
}

/**
 * Allocates the next generation for a deploy of `version` (git sha, image
 * tag) in one round trip (`INSERT ... RETURNING generation`). Runs on the
 * handle given: inside a transaction it commits or rolls back with it.
 * Concurrent calls always get distinct, increasing numbers.
 */
export async function allocateGeneration(
  db: DbHandle,
  opts: { version: string } & GenerationOptions,
): Promise<Deployment> {
  const schemaName = validateSchemaName(opts.schema ?? DEFAULT_SCHEMA);
  const schema = quoteIdent(schemaName);
  if (typeof opts.version !== "string" || opts.version.trim() === "" || opts.version.length > 200) {
    throw new CutoverError("CONFIG_INVALID", "version must be a non-empty string of at most 200 characters");
  }
  const q = toQueryable(db, "allocateGeneration");
  const { rows } = await requireMigrated(schemaName, () =>
    q.query<{ generation: number; version: string; created_at: Date }>(
      `INSERT INTO ${schema}.deployments (version) VALUES ($1) RETURNING generation, version, created_at`,
      [opts.version],
    ),
  );
  const row = rows[0]!;
  return { generation: row.generation, version: row.version, createdAt: row.created_at };
}

/** All deployments, newest first. Read-only. */
export async function listDeployments(db: DbHandle, opts: GenerationOptions = {}): Promise<Deployment[]> {
  const schemaName = validateSchemaName(opts.schema ?? DEFAULT_SCHEMA);
  const schema = quoteIdent(schemaName);
  const q = toQueryable(db, "listDeployments");
  const { rows } = await requireMigrated(schemaName, () =>
    q.query<{ generation: number; version: string; created_at: Date }>(
      `SELECT generation, version, created_at FROM ${schema}.deployments ORDER BY generation DESC`,
    ),
  );
  return rows.map((r) => ({ generation: r.generation, version: r.version, createdAt: r.created_at }));
}

/**
 * Parses a generation value (as found in CUTOVER_GENERATION) without touching
 * the database. Throws GENERATION_MISSING / GENERATION_INVALID naming the variable.
 */
export function parseGeneration(raw: string | number | undefined, variable = "CUTOVER_GENERATION"): number {
  if (raw === undefined || raw === "") {
    throw new CutoverError(
      "GENERATION_MISSING",
      `${variable} is not set: set it at deploy time to the number printed by \`outbox-worker generation allocate --version <sha>\``,
      { details: { variable } },
    );
  }
  const text = String(raw).trim();
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > 2_147_483_647) {
    throw new CutoverError(
      "GENERATION_INVALID",
      `${variable} must be a positive integer (a generation allocated for this deploy); got ${JSON.stringify(String(raw)).slice(0, 40)}`,
      { details: { variable } },
    );
  }
  return Number(text);
}

/**
 * The running generation: `opts.generation` if given, else CUTOVER_GENERATION
 * from `env` (default process.env). Verifies it was allocated; throws
 * GENERATION_NOT_ALLOCATED otherwise, so a mistyped deploy fails at start-up
 * instead of publishing rows no worker will ever claim. Read-only.
 */
export async function resolveGeneration(
  db: DbHandle,
  opts: GenerationOptions & { generation?: number; env?: Record<string, string | undefined> } = {},
): Promise<Deployment> {
  const generation =
    opts.generation !== undefined
      ? parseGeneration(opts.generation, "generation")
      : parseGeneration((opts.env ?? process.env).CUTOVER_GENERATION);
  const schemaName = validateSchemaName(opts.schema ?? DEFAULT_SCHEMA);
  const schema = quoteIdent(schemaName);
  const q = toQueryable(db, "resolveGeneration");
  const { rows } = await requireMigrated(schemaName, () =>
    q.query<{ generation: number; version: string; created_at: Date }>(
      `SELECT generation, version, created_at FROM ${schema}.deployments WHERE generation = $1`,
      [generation],
    ),
  );
  const row = rows[0];
  if (!row) {
    throw new CutoverError(
      "GENERATION_NOT_ALLOCATED",
      `generation ${generation} was never allocated in schema ${schema}: allocate it with \`outbox-worker generation allocate --version <sha>\` and deploy with that number`,
      { details: { generation } },
    );
  }
  return { generation: row.generation, version: row.version, createdAt: row.created_at };
}
