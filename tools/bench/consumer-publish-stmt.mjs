// publishBatch's statement, old (RETURNING id, topic, key) vs lean (RETURNING
// id, key) vs a plain multi-row INSERT of the same 1,000 rows, interleaved on
// one connection, each in a rolled-back transaction; wall time per batch
// including decoding the returned rows. Usage: npm run build, then
// node tools/bench/consumer-publish-stmt.mjs (DATABASE_BASE_URL as in consumer-explain.mjs).
import { randomUUID } from "node:crypto";
import pg from "pg";

const { migrate } = await import("../../packages/outbox/dist/index.js");
const base = process.env.DATABASE_BASE_URL ?? "postgres://postgres@127.0.0.1:5432/";
const admin = new pg.Client(`${base}postgres`);
await admin.connect();
await admin.query("DROP DATABASE IF EXISTS cw_publish");
await admin.query("CREATE DATABASE cw_publish");
const url = `${base}cw_publish`;
await migrate({ databaseUrl: url });
const c = new pg.Client(url);
await c.connect();
const stmt = (cols) => `WITH ins AS (
  INSERT INTO cutover.outbox (generation, topic, payload, headers, idempotency_key, ordering_key, available_at)
  SELECT $1, t.topic, t.payload, t.headers, t.key, t.okey, coalesce(t.at, now())
  FROM jsonb_to_recordset($2::jsonb) AS t(i int, topic text, payload jsonb, headers jsonb, key text, okey text, at timestamptz)
  ORDER BY t.i
  ON CONFLICT (topic, idempotency_key) DO NOTHING
  RETURNING ${cols}
), note AS (
  SELECT pg_notify($3, min(id)::text) FROM ins HAVING count(*) > 0
)
SELECT id::text AS id, ${cols.replace("id, ", "")}, (SELECT count(*) FROM note) AS notified FROM ins`;
const variants = {
  old: stmt("id, topic, idempotency_key"),
  lean: stmt("id, idempotency_key"),
};
const N = 1000;
const times = { old: [], lean: [], plain: [] };
for (let round = 0; round < 40; round++) {
  for (const v of ["old", "lean", "plain"]) {
    const items = Array.from({ length: N }, (_, i) => ({
      i,
      topic: "order.placed",
      payload: { orderId: `o-${i}`, total: i },
      headers: {},
      key: randomUUID(),
      okey: null,
      at: null,
    }));
    await c.query("BEGIN");
    const t0 = performance.now();
    if (v === "plain") {
      const params = [];
      const values = items.map((it, k) => {
        params.push(it.topic, JSON.stringify(it.payload), it.key);
        return `(1, $${3 * k + 1}, $${3 * k + 2}::jsonb, $${3 * k + 3})`;
      });
      await c.query(
        `INSERT INTO cutover.outbox (generation, topic, payload, idempotency_key) VALUES ${values.join(",")}`,
        params,
      );
    } else {
      const { rows } = await c.query(variants[v], [1, JSON.stringify(items), "cw_publish_bench"]);
      if (rows.length !== N) throw new Error("lost rows");
    }
    if (round >= 5) times[v].push(performance.now() - t0);
    await c.query("ROLLBACK");
  }
}
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
for (const v of Object.keys(times))
  console.log(`${v}: median ${med(times[v]).toFixed(2)} ms per batch of ${N}`);
await c.end();
await admin.query("DROP DATABASE IF EXISTS cw_publish");
await admin.end();
