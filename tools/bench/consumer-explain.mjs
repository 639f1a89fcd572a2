// The claim plan on stale statistics: 50,000 rows analyzed while pending,
// then all done and 1,000 new pending rows, no ANALYZE in between (a
// burn-down outrunning autoanalyze). Prints the plan of the old claim order
// (id) and of the current one (available_at, id).
// Usage: npm run build, then node tools/bench/consumer-explain.mjs
// (DATABASE_BASE_URL, default postgres://postgres@127.0.0.1:5432/; uses a
// scratch database cw_explain, dropped at the end).
import pg from "pg";

const { migrate } = await import("../../packages/outbox/dist/index.js");
const base = process.env.DATABASE_BASE_URL ?? "postgres://postgres@127.0.0.1:5432/";
const admin = new pg.Client(`${base}postgres`);
await admin.connect();
await admin.query("DROP DATABASE IF EXISTS cw_explain");
await admin.query("CREATE DATABASE cw_explain");
await admin.end();
const url = `${base}cw_explain`;
await migrate({ databaseUrl: url });
const c = new pg.Client(url);
await c.connect();
await c.query(
  `INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key) SELECT 1, 't', '{}', g::text FROM generate_series(1,50000) g`,
);
await c.query("VACUUM ANALYZE cutover.outbox");
await c.query("UPDATE cutover.outbox SET status='done', processed_at=now()");
await c.query(
  `INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key) SELECT 1, 't', '{}', 'b'||g FROM generate_series(1,1000) g`,
);
for (const order of ["o.id", "o.available_at, o.id"]) {
  const q = `EXPLAIN (ANALYZE, BUFFERS) SELECT o.id FROM cutover.outbox o
  WHERE o.generation = 1 AND o.status = 'pending' AND o.available_at <= now()
    AND (o.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM cutover.outbox p WHERE p.generation = o.generation AND p.ordering_key = o.ordering_key AND p.id < o.id AND p.status IN ('pending','in_flight')))
  ORDER BY ${order} LIMIT 200 FOR UPDATE SKIP LOCKED`;
  const r = await c.query(q);
  console.log("ORDER BY", order);
  console.log(
    r.rows
      .map((x) => x["QUERY PLAN"])
      .filter((l) => /Index|Buffers|Execution|Limit|Sort/.test(l))
      .join("\n"),
  );
}
await c.end();
const cleanup = new pg.Client(`${base}postgres`);
await cleanup.connect();
await cleanup.query("DROP DATABASE IF EXISTS cw_explain");
await cleanup.end();
