import { CutoverError } from "./errors.js";
import { SqlState, sqlStateOf } from "./sqlstate.js";

/**
 * Runs `fn` (statements on Cutover's own tables). A missing table or schema
 * (42P01, 3F000) means the schema was never migrated, or the caller named
 * another schema than the one it migrated: that becomes SCHEMA_BEHIND naming
 * the schema and the fix, not Postgres' bare `relation "..." does not exist`.
 */
export async function requireMigrated<T>(schema: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const state = sqlStateOf(err);
    if (state !== SqlState.undefinedTable && state !== SqlState.invalidSchemaName) throw err;
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new CutoverError(
      "SCHEMA_BEHIND",
      `schema "${schema}" is not migrated (${why}): run migrate({ schema: "${schema}" }) or \`outbox-worker migrate\` first, or pass the \`schema\` you migrated`,
      { cause: err, details: { schema } },
    );
  }
}
