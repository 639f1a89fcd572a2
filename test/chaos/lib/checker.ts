/**
 * The history checker. Reads every publisher's history (what each attempt's
 * client saw: committed, rolled back, unknown) and the database (outbox rows,
 * the business table, the handlers' side-effect table, the audit of every
 * outbox status/owner change) and proves SPEC invariants 1-4:
 *
 * 1. lost: every committed event is completed or `dead`. Completed is a `done`
 *    row (completion "keep") with its effect, or a row the completion deleted
 *    (the default) whose handler's effect exists; a row that is gone without
 *    its effect is LOST (a lost row is gone too, so "gone" alone proves nothing).
 * 2. atomicity: no event without its business write, none from a rolled-back
 *    transaction; an `unknown` outcome is resolved by looking for the rows, and
 *    the event and its business row must agree (both or neither).
 * 3. generation: no effect applied by another generation's code; no claim,
 *    release or reap of a row by a worker of another generation; plus fencing:
 *    a release (done/retry/dead) is made only by the row's current owner.
 * 4. duplicates: at most one effect row per (handler, idempotency key). The
 *    effects table has no unique constraint, so a double is a visible row.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type pg from "pg";

export type Outcome = "ok" | "rb" | "unk";

export interface Attempt {
  key: string;
  generation: number;
  topic: string;
  outcome: Outcome;
}

/** Reads every *.jsonl history file of `dir`; an invocation without an outcome is "unk". */
export function readHistories(dir: string): Attempt[] {
  const byKey = new Map<string, Attempt>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".jsonl"))) {
    for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { k: string; g?: number; tp?: string; o: string };
      if (r.o === "inv") {
        if (byKey.has(r.k)) throw new Error(`history: key ${r.k} invoked twice`);
        byKey.set(r.k, { key: r.k, generation: r.g ?? -1, topic: r.tp ?? "", outcome: "unk" });
      } else {
        const a = byKey.get(r.k);
        if (!a) throw new Error(`history: outcome for ${r.k} without invocation`);
        a.outcome = r.o as Outcome;
      }
    }
  }
  return [...byKey.values()];
}

export interface Report {
  /** Publish attempts (transactions begun). */
  published: number;
  /** Attempts whose transaction committed: acknowledged, plus unknown ones found in the database. */
  committed: number;
  rolledBack: number;
  /** Attempts whose COMMIT got no answer; resolved below. */
  unknown: number;
  unknownCommitted: number;
  /** Completed events: `done` rows plus rows deleted by a completion with their effect. */
  done: number;
  dead: number;
  deadByTopic: Record<string, number>;
  /** Events whose handler's effect is in the effects table. */
  handled: number;
  effectRows: number;
  lost: number;
  duplicatedEffects: number;
  crossGeneration: number;
  fencingViolations: number;
  fromRollback: number;
  withoutBusinessWrite: number;
  /** Every failed check, with examples; empty when all invariants hold. */
  violations: string[];
}

const sample = (xs: unknown[]) => JSON.stringify(xs.slice(0, 5));

export async function check(pool: pg.Pool, historyDir: string): Promise<Report> {
  const attempts = readHistories(historyDir);
  const outbox = new Map<string, { id: string; topic: string; generation: number; status: string }>();
  for (const r of (
    await pool.query<{ k: string; id: string; topic: string; generation: number; status: string }>(
      "SELECT idempotency_key AS k, id::text AS id, topic, generation, status FROM cutover.outbox",
    )
  ).rows) {
    if (outbox.has(r.k)) throw new Error(`checker: idempotency key ${r.k} appears on two outbox rows`);
    outbox.set(r.k, r);
  }
  const orders = new Map<string, number>();
  for (const r of (await pool.query<{ key: string }>("SELECT key FROM public.orders")).rows) {
    orders.set(r.key, (orders.get(r.key) ?? 0) + 1);
  }
  const effects = new Map<string, { count: number; rows: Array<{ eg: number; cg: number; eid: string }> }>();
  let effectRows = 0;
  for (const r of (
    await pool.query<{ h: string; k: string; eid: string; eg: number; cg: number }>(
      `SELECT handler AS h, idempotency_key AS k, event_id::text AS eid, event_generation AS eg, code_generation AS cg
         FROM public.chaos_effects`,
    )
  ).rows) {
    effectRows++;
    const id = `${r.h}\u0000${r.k}`;
    const e = effects.get(id) ?? { count: 0, rows: [] };
    e.count++;
    e.rows.push({ eg: r.eg, cg: r.cg, eid: r.eid });
    effects.set(id, e);
  }

  const violations: string[] = [];
  const lost: string[] = [];
  const fromRollback: string[] = [];
  const withoutBusiness: string[] = [];
  const disagree: string[] = [];
  let committed = 0;
  let rolledBack = 0;
  let unknown = 0;
  let unknownCommitted = 0;
  /** Committed events whose row a completion deleted, with their effect. */
  let deletedDone = 0;
  const seen = new Set<string>();
  for (const a of attempts) {
    seen.add(a.key);
    const row = outbox.get(a.key);
    const order = orders.get(a.key) ?? 0;
    if (order > 1) disagree.push(`${a.key}: ${order} business rows`);
    let isCommitted: boolean;
    // A row the completion deleted is known to have existed by its effect.
    const handled = effects.has(`chaos.effect\u0000${a.key}`);
    const stored = row !== undefined || handled;
    if (a.outcome === "unk") {
      unknown++;
      isCommitted = stored || order > 0;
      if (stored !== order > 0) disagree.push(`${a.key}: event ${stored}, business row ${order > 0}`);
      if (isCommitted) unknownCommitted++;
    } else {
      isCommitted = a.outcome === "ok";
    }
    if (isCommitted) {
      committed++;
      if (!row) {
        if (!handled) lost.push(`${a.key}: committed, gone from the outbox unhandled`);
        else deletedDone++;
      } else if (row.status !== "done" && row.status !== "dead") lost.push(`${a.key}: ${row.status}`);
      else if (
        row.status === "done" &&
        row.topic === "chaos.order" &&
        !effects.has(`chaos.effect\u0000${a.key}`)
      )
        lost.push(`${a.key}: done without its effect`);
      if (a.outcome === "ok" && order === 0) withoutBusiness.push(a.key);
    } else {
      rolledBack++;
      if (row || order > 0 || effects.has(`chaos.effect\u0000${a.key}`)) fromRollback.push(a.key);
    }
  }
  for (const [k] of outbox) {
    if (!seen.has(k)) violations.push(`outbox row ${k} matches no publish attempt in the histories`);
    if (!orders.has(k)) withoutBusiness.push(k);
  }

  const duplicated = [...effects]
    .filter(([, e]) => e.count > 1)
    .map(([k, e]) => `${k.replace("\u0000", "/")} x${e.count}`);
  const crossEffects: string[] = [];
  for (const [id, e] of effects) {
    const key = id.split("\u0000")[1]!;
    const row = outbox.get(key);
    for (const r of e.rows) {
      if (r.cg !== r.eg || (row && row.generation !== r.eg))
        crossEffects.push(
          `${key}: event of generation ${row?.generation ?? r.eg} handled by generation ${r.cg} code`,
        );
    }
  }
  const crossTransitions = (
    await pool.query<{
      id: string;
      generation: number;
      actor: string;
      actor_generation: number | null;
      what: string;
    }>(
      `SELECT id::text, generation, actor, actor_generation, old_status || '->' || new_status AS what
         FROM public.chaos_transitions
        WHERE actor LIKE 'cutover:%' AND actor_generation IS DISTINCT FROM generation
        ORDER BY seq LIMIT 1000`,
    )
  ).rows.map((r) => `row ${r.id} (gen ${r.generation}) ${r.what} by ${r.actor} (gen ${r.actor_generation})`);
  const fencing = (
    await pool.query<{ id: string; what: string; actor: string; owner: string | null }>(
      `SELECT id::text, old_status || '->' || new_status AS what, actor,
              CASE WHEN old_status = 'pending' THEN new_owner ELSE old_owner END AS owner
         FROM public.chaos_transitions
        WHERE actor LIKE 'cutover:%' AND (
              (old_status = 'in_flight' AND NOT reaped AND actor IS DISTINCT FROM 'cutover:' || old_owner)
           OR (old_status = 'pending' AND new_status = 'in_flight' AND actor IS DISTINCT FROM 'cutover:' || new_owner)
           OR (old_status = 'done' AND new_status <> 'deleted')
           OR (new_status = 'deleted' AND old_status NOT IN ('in_flight', 'done')))
        ORDER BY seq LIMIT 1000`,
    )
  ).rows.map((r) => `row ${r.id} ${r.what} by ${r.actor}, owner ${r.owner}`);

  if (lost.length)
    violations.push(`invariant 1: ${lost.length} committed event(s) not done/dead: ${sample(lost)}`);
  if (fromRollback.length)
    violations.push(
      `invariant 2: ${fromRollback.length} rolled-back event(s) stored or handled: ${sample(fromRollback)}`,
    );
  if (withoutBusiness.length)
    violations.push(
      `invariant 2: ${withoutBusiness.length} event(s) without their business write: ${sample(withoutBusiness)}`,
    );
  if (disagree.length) violations.push(`invariant 2: event and business write disagree: ${sample(disagree)}`);
  if (crossEffects.length)
    violations.push(
      `invariant 3: ${crossEffects.length} cross-generation handling(s): ${sample(crossEffects)}`,
    );
  if (crossTransitions.length)
    violations.push(
      `invariant 3: ${crossTransitions.length} claim/release/reap by another generation: ${sample(crossTransitions)}`,
    );
  if (fencing.length)
    violations.push(`fencing: ${fencing.length} write(s) by a non-owner: ${sample(fencing)}`);
  if (duplicated.length)
    violations.push(
      `invariant 4: ${duplicated.length} effect(s) applied more than once: ${sample(duplicated)}`,
    );

  let done = deletedDone;
  let dead = 0;
  const deadByTopic: Record<string, number> = {};
  for (const r of outbox.values()) {
    if (r.status === "done") done++;
    if (r.status === "dead") {
      dead++;
      deadByTopic[r.topic] = (deadByTopic[r.topic] ?? 0) + 1;
    }
  }
  return {
    published: attempts.length,
    committed,
    rolledBack,
    unknown,
    unknownCommitted,
    done,
    dead,
    deadByTopic,
    handled: effects.size,
    effectRows,
    lost: lost.length,
    duplicatedEffects: duplicated.length,
    crossGeneration: crossEffects.length + crossTransitions.length,
    fencingViolations: fencing.length,
    fromRollback: fromRollback.length,
    withoutBusinessWrite: withoutBusiness.length,
    violations,
  };
}

/** Waits until no outbox row is pending or in flight; false on timeout. */
export async function waitSettled(pool: pg.Pool, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { rows } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM cutover.outbox WHERE status IN ('pending', 'in_flight')",
      );
      if (rows[0]!.n === 0) return true;
    } catch {
      // The database may be restarting.
    }
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Recovery time: from `healedAt` (the fault ended) until the last normal event
 * committed before it was handled; 0 when everything was handled already.
 */
export async function recoveryMs(pool: pg.Pool, healedAt: Date): Promise<number> {
  // A deleted row's publish time is its business row's (same transaction).
  const { rows } = await pool.query<{ last: Date | null }>(
    `SELECT greatest(
       (SELECT max(coalesce(e.handled_at, o.processed_at))
          FROM cutover.outbox o LEFT JOIN public.chaos_effects e ON e.event_id = o.id
         WHERE o.topic = 'chaos.order' AND o.created_at <= $1),
       (SELECT max(e.handled_at) FROM public.chaos_effects e JOIN public.orders b ON b.key = e.idempotency_key
         WHERE b.created_at <= $1)) AS last`,
    [healedAt],
  );
  const last = rows[0]?.last;
  return last ? Math.max(0, last.getTime() - healedAt.getTime()) : 0;
}
