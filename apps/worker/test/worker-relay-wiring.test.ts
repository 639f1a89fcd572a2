/**
 * OUTBOX_RELAYS wired into `outbox-worker run`: a webhook relay (no handler
 * module at all) delivers library-published events to a real HTTP receiver,
 * reports under /health `relays`, and its secret is never printed.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { useTestDatabase } from "../../../test/harness/db.js";
import { freePort } from "../../../test/harness/postgres-server.js";
import { newGeneration, publish } from "./support/outbox.js";
import { allOutput, ensureBuilt, type Run, spawnCli, waitUntil } from "./support/process.js";

const db = useTestDatabase();
const SECRET = "relay-secret-7f3a9c1e5b2d4f60";
const received: Array<{ headers: IncomingHttpHeaders; body: { topic?: string } }> = [];
let receiver: Server;
let worker: Run;
let port: number;

beforeAll(async () => {
  ensureBuilt();
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => {
      body += d.toString();
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  const hookPort = (receiver.address() as AddressInfo).port;
  const generation = await newGeneration(db.current.pool, "v-relay");
  port = await freePort();
  worker = spawnCli(["run"], {
    DATABASE_URL: db.current.url,
    CUTOVER_GENERATION: String(generation),
    OUTBOX_RELAYS: JSON.stringify([
      {
        kind: "webhook",
        name: "relay.test-hook",
        topics: ["order.*"],
        url: `http://127.0.0.1:${hookPort}/events`,
        secretEnv: "HOOK_SECRET",
      },
    ]),
    HOOK_SECRET: SECRET,
    PORT: String(port),
    OUTBOX_HTTP_HOST: "127.0.0.1",
    OUTBOX_POLL_INTERVAL_MS: "200",
  });
  await worker.waitForLog((l) => l.msg === "worker running", "worker running");
  await publish(db.current.pool, generation, "order.placed", 3);
});

afterAll(async () => {
  if (worker && worker.child.exitCode === null) worker.child.kill("SIGKILL");
  await new Promise((r) => receiver?.close(r));
});

it("runs the relay as a handler, reports its health, and closes it on SIGTERM", async () => {
  await waitUntil("3 deliveries", async () => received.length === 3);
  expect(received.every((r) => r.body.topic === "order.placed")).toBe(true);
  expect(received.every((r) => typeof r.headers["x-cutover-signature"] === "string")).toBe(true);

  expect(worker.logs().find((l) => l.msg === "worker running")).toMatchObject({
    relays: ["relay.test-hook"],
  });
  // Delivered first, then committed done: the log line follows the commit.
  const handled = await waitUntil("3 handled lines", async () => {
    const h = worker.logs().filter((l) => l.msg === "event handled");
    return h.length === 3 ? h : undefined;
  });
  expect(handled[0]).toMatchObject({ handlers: ["relay.test-hook"], event_type: "order.placed" });

  // Every check turns ok once each loop has run at least once (the reaper's
  // first run comes an interval after start); on a loaded machine that can
  // trail the deliveries, so wait for it rather than sample once.
  const health = await waitUntil("health ok", async () => {
    const body = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { status?: string };
    return body.status === "ok" ? body : undefined;
  });
  expect(health).toMatchObject({
    status: "ok",
    relays: { "relay.test-hook": { kind: "webhook", ok: true, degraded: false } },
  });
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  expect(metrics).toMatch(/outbox_events_handled_total\{[^}]*handler="relay.test-hook"[^}]*\} 3/);

  worker.child.kill("SIGTERM");
  expect(await worker.exited).toEqual({ code: 0, signal: null });
  expect(worker.stderr()).toBe("");
  expect(allOutput.join("")).not.toContain(SECRET);
});
