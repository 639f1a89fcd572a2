/**
 * `npm start`'s demo end to end, against the test database through
 * DATABASE_URL (the embedded-PostgreSQL path runs as `npm start` in CI).
 */

import { spawn } from "node:child_process";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { ensureBuilt, root } from "./support/process.js";

const db = useTestDatabase();

beforeAll(() => ensureBuilt());

it("shows a cutover: gen-1 rows finished by gen-1 code, gen-2 rows by gen-2 code, in its own schema", async () => {
  const child = spawn(process.execPath, [join(root, "apps/worker/dist/demo/main.js")], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", DATABASE_URL: db.current.url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  expect({ code, err }).toEqual({ code: 0, err: "" });
  expect(out).toMatch(/generation 2 allocated/);
  expect(out).toMatch(/^\s+[0-9.]+s\s+gen 2 deployed\s+\|/m);
  const ok =
    /OK: (\d+)\/(\d+) gen-1 events handled by gen-1 code, (\d+)\/(\d+) gen-2 events by gen-2 code, 0 crossed/.exec(
      out,
    );
  expect(ok).not.toBeNull();
  expect(Number(ok![1])).toBeGreaterThan(0);
  expect(ok![1]).toBe(ok![2]);
  expect(ok![3]).toBe(ok![4]);

  const pool = db.current.pool;
  const { rows } = await pool.query(
    `SELECT generation, code, count(*)::int AS n FROM cutover_demo.demo_receipts GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  expect(rows).toEqual([
    { generation: 1, code: "v1", n: Number(ok![1]) },
    { generation: 2, code: "v2", n: Number(ok![3]) },
  ]);
  const workers = await pool.query("SELECT generation, status FROM cutover_demo.workers ORDER BY generation");
  expect(workers.rows).toEqual([
    { generation: 1, status: "exited" },
    { generation: 2, status: "exited" },
  ]);
  // The real Cutover schema of that database was not touched.
  const real = await pool.query(
    "SELECT (SELECT count(*)::int FROM cutover.outbox) AS o, (SELECT count(*)::int FROM cutover.deployments) AS d",
  );
  expect(real.rows[0]).toEqual({ o: 0, d: 0 });
});
