import type pg from "pg";

/**
 * A fingerprint of everything Cutover stores (row counts and an md5 of every
 * row of its tables, plus the business table), to prove that rejected bad
 * input left stored data untouched.
 */
export async function snapshot(pool: pg.Pool, schema = "cutover"): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of ["outbox", "event_handled", "workers", "deployments"]) {
    const { rows } = await pool.query<{ n: number; h: string | null }>(
      `SELECT count(*)::int AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS h FROM "${schema}"."${table}" t`,
    );
    out[table] = `${rows[0]!.n}:${rows[0]!.h}`;
  }
  return out;
}
