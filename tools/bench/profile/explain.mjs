#!/usr/bin/env node
// EXPLAIN (ANALYZE, BUFFERS, WAL) of one chunk's statements, exactly as the
// consumer sends them (text from the build, the same parameters), on a fresh
// backlog in the private profile server: claim 500, then in one transaction
// insertHandled and complete. Prints the plans' top lines (time, buffers, WAL).
//   node tools/bench/profile/explain.mjs [--events 100000] [--batch 500]
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { consumerSql } from "../../../packages/outbox/dist/consumer/sql.js";
import { HANDLER, TOPIC } from "../lib/payload.mjs";
import { backlog, freshDatabase, out, startProfileServer } from "./common.mjs";

const { values: args } = parseArgs({
  options: { events: { type: "string", default: "100000" }, batch: { type: "string", default: "500" } },
});
const server = await startProfileServer();
try {
  const env = await freshDatabase(server.adminUrl, "explain");
  await backlog(env, Number(args.events));
  const sql = consumerSql("cutover", { exact: [TOPIC], likes: [] });
  const gen = env.ctx.generation;
  const worker = `explain-${randomUUID()}`;
  const c = await env.pool.connect();
  const explain = async (name, text, params) => {
    const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS, WAL, FORMAT JSON) ${text}`, params);
    const plan = rows[0]["QUERY PLAN"][0];
    const p = plan.Plan;
    out(
      `| ${name} | ${plan["Execution Time"].toFixed(2)} | ${plan["Planning Time"].toFixed(2)} | ${p["Shared Hit Blocks"]} | ${p["Shared Read Blocks"]} | ${p["Shared Dirtied Blocks"]} | ${p["WAL Records"]} | ${p["WAL FPI"]} | ${p["WAL Bytes"]} |`,
    );
    return plan;
  };
  out(`Backlog ${args.events}, one chunk of ${args.batch}:`);
  out();
  out("| statement | exec ms | plan ms | shared hit | read | dirtied | WAL records | WAL FPI | WAL bytes |");
  out("|---|---|---|---|---|---|---|---|---|");
  // EXPLAIN ANALYZE of a RETURNING statement discards the rows: claim for real first to learn the ids, then explain a second claim.
  await c.query("BEGIN");
  const claimParams = [gen, Number(args.batch), worker, 60000, [TOPIC], [HANDLER], [TOPIC], []];
  const { rows: claimed } = await c.query(sql.claim, claimParams);
  await c.query("COMMIT");
  await c.query("BEGIN");
  await explain("claim (a second batch)", sql.claim, claimParams);
  await c.query("COMMIT");
  const ids = claimed.map((r) => r.id);
  await c.query("BEGIN");
  await explain("insertHandled", sql.insertHandled, [
    ids.map(() => HANDLER),
    claimed.map((r) => r.idempotency_key),
    ids,
    gen,
    worker,
    "32000",
  ]);
  await explain("complete", sql.complete, [ids, gen, worker]);
  await c.query("COMMIT");
  c.release();
  await env.pool.end();
} finally {
  await server.stop();
}
