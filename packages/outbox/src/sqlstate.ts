/** The PostgreSQL SQLSTATEs Cutover reacts to, named once. */
export const SqlState = {
  uniqueViolation: "23505",
  undefinedTable: "42P01",
  undefinedColumn: "42703",
  invalidSchemaName: "3F000",
  adminShutdown: "57P01",
  crashShutdown: "57P02",
  cannotConnectNow: "57P03",
  queryCanceled: "57014",
  lockNotAvailable: "55P03",
  idleInTransactionTimeout: "25P03",
  serializationFailure: "40001",
  deadlockDetected: "40P01",
  untranslatableCharacter: "22P05",
} as const;

export function sqlStateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Errors after which the same statement may succeed on a fresh connection. */
export function isConnectionError(err: unknown): boolean {
  const state = sqlStateOf(err);
  if (state !== undefined) return state.startsWith("08") || state.startsWith("57P");
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "EPIPE" || code === "ETIMEDOUT")
    return true;
  const msg = err instanceof Error ? err.message : "";
  return /Connection terminated|connection.*(closed|ended)|not queryable|Client has encountered a connection error/i.test(
    msg,
  );
}
