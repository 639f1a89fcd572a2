/**
 * The chaos rig's PostgreSQL: a private embedded server the test can restart,
 * one fresh database per scenario, migrated, plus the test-only tables the
 * checker reads:
 * - `public.orders`: the publishers' business write (same transaction as the event);
 * - `public.chaos_effects`: the handlers' side effects, deliberately WITHOUT a
 *   unique constraint, so a double application is a visible second row;
 * - `public.chaos_transitions`: every status/owner change of an outbox row,
 *   and every delete (new_status 'deleted': a completion, or the pruner), with the session that made it (application_name `cutover:<workerId>`) and
 *   that worker's generation, and the error a release or reap recorded, so
 *   claims, releases and reaps can be audited.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { allocateGeneration, migrate } from "../../../packages/outbox/src/index.js";
import { databaseUrl, startEmbedded } from "../../harness/postgres-server.js";

export type Server = Awaited<ReturnType<typeof startEmbedded>>;

export async function startServer(): Promise<Server> {
  return startEmbedded({ flags: ["-c", "max_connections=500"] });
}

const CHAOS_SQL = `
CREATE TABLE public.orders (
  key text NOT NULL,
  generation int NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE public.chaos_effects (
  handler text NOT NULL,
  idempotency_key text NOT NULL,
  event_id bigint NOT NULL,
  event_generation int NOT NULL,
  code_generation int NOT NULL,
  worker text NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX ON public.chaos_effects (idempotency_key);
CREATE TABLE public.chaos_transitions (
  seq bigserial PRIMARY KEY,
  id bigint NOT NULL,
  generation int NOT NULL,
  old_status text NOT NULL,
  new_status text NOT NULL,
  old_owner text,
  new_owner text,
  reaped boolean NOT NULL,
  actor text NOT NULL,
  actor_generation int,
  error text,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION public.chaos_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  app text := coalesce(current_setting('application_name', true), '');
  wid text := CASE WHEN app LIKE 'cutover:%' THEN substr(app, 9) END;
BEGIN
  IF TG_OP = 'DELETE' THEN
    -- A completion by delete (or the pruner's delete of a done row): new_status 'deleted'.
    INSERT INTO public.chaos_transitions
      (id, generation, old_status, new_status, old_owner, new_owner, reaped, actor, actor_generation, error)
    VALUES (OLD.id, OLD.generation, OLD.status, 'deleted', OLD.claimed_by, NULL, false,
      app, (SELECT w.generation FROM cutover.workers w WHERE w.id = wid), NULL);
    RETURN NULL;
  END IF;
  INSERT INTO public.chaos_transitions
    (id, generation, old_status, new_status, old_owner, new_owner, reaped, actor, actor_generation, error)
  VALUES (NEW.id, NEW.generation, OLD.status, NEW.status, OLD.claimed_by, NEW.claimed_by,
    coalesce(NEW.last_error LIKE 'reaped from worker %' AND NEW.last_error IS DISTINCT FROM OLD.last_error, false),
    app, (SELECT w.generation FROM cutover.workers w WHERE w.id = wid),
    CASE WHEN OLD.status = 'in_flight' AND NEW.status <> 'done' THEN NEW.last_error END);
  RETURN NULL;
END $$;
CREATE TRIGGER chaos_audit AFTER UPDATE ON cutover.outbox FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.claimed_by IS DISTINCT FROM NEW.claimed_by)
  EXECUTE FUNCTION public.chaos_audit();
CREATE TRIGGER chaos_audit_delete AFTER DELETE ON cutover.outbox FOR EACH ROW
  EXECUTE FUNCTION public.chaos_audit();
`;

export interface ChaosDatabase {
  name: string;
  /** Direct URL (not through any proxy). */
  url: string;
  pool: pg.Pool;
  allocate(version: string): Promise<number>;
  drop(): Promise<void>;
}

export async function createChaosDatabase(server: Server, label: string): Promise<ChaosDatabase> {
  const name = `chaos_${label.replace(/[^a-z0-9]/g, "_")}_${randomBytes(3).toString("hex")}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(server.adminUrl, name);
  await migrate({ databaseUrl: url });
  const pool = new pg.Pool({ connectionString: url, max: 6, application_name: "chaos-checker" });
  pool.on("error", () => {});
  await pool.query(CHAOS_SQL);
  return {
    name,
    url,
    pool,
    async allocate(version: string) {
      const d = await allocateGeneration(pool, { version });
      return d.generation;
    },
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: server.adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Retries `fn` until it resolves (the database may be restarting). */
export async function retrying<T>(fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
