import { CutoverError } from "./errors.js";

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Validates a schema name: lower-case letters, digits and underscores, starting
 * with a letter or underscore, at most 63 bytes (Postgres' identifier limit).
 * Deliberately stricter than Postgres so a name never needs thought to quote.
 */
export function validateSchemaName(name: unknown, option = "schema"): string {
  if (typeof name !== "string" || !IDENT.test(name) || name.startsWith("pg_")) {
    throw new CutoverError(
      "IDENTIFIER_INVALID",
      `${option} must match ${IDENT.source} and not start with "pg_"; got ${JSON.stringify(String(name)).slice(0, 80)}`,
      { details: { option } },
    );
  }
  return name;
}

/** Quotes an identifier for SQL text. Always used, even on validated names. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The NOTIFY channel of one generation in one schema. */
export function channelFor(schema: string, generation: number): string {
  return `${schema}.gen.${generation}`;
}

export const DEFAULT_SCHEMA = "cutover";
