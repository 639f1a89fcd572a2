import http from "node:http";
import type net from "node:net";
import { isPermanentError } from "@cutover/outbox";
import { afterEach, describe, expect, it } from "vitest";
import { createRelays, parseRelaysConfig, type Relay, RelayError } from "../src/relays/index.js";
import { signWebhookPayload, verifyWebhookSignature } from "../src/relays/verify.js";
import { memoryLogger, testCtx, testEvent } from "./relays-fixtures/events.js";
import { runId } from "./relays-fixtures/receivers.js";

const SECRET = "whsec_0123456789abcdef0123";

interface Captured {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A receiver answering each request with `respond(n)`, n = 1, 2, ... */
async function receiver(respond: (n: number) => { status: number; delayMs?: number; body?: string }) {
  const captured: Captured[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      captured.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const r = respond(captured.length);
      const send = () => {
        if (!res.destroyed) res.writeHead(r.status).end(r.body ?? "");
      };
      if (r.delayMs) setTimeout(send, r.delayMs);
      else send();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hook`;
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url, captured };
}

function webhookRelay(url: string, extra: Record<string, unknown> = {}, logger = memoryLogger()): Relay {
  const config = parseRelaysConfig(
    [{ kind: "webhook", name: "relay.hook", topics: ["order.*"], url, secretEnv: "HOOK_SECRET", ...extra }],
    { HOOK_SECRET: SECRET },
  );
  const relay = createRelays(config, { logger })[0]!;
  cleanups.push(() => relay.close());
  return relay;
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("webhook relay", () => {
  it("POSTs the signed event envelope with idempotency, generation and trace headers; the receiver's verify passes", async () => {
    const rx = await receiver(() => ({ status: 200 }));
    const relay = webhookRelay(rx.url, { headers: { authorization: "Bearer static-token" } });
    const run = runId();
    await relay.handler.handle(testEvent(7, { run, generation: 3, orderingKey: "k1" }), testCtx());

    expect(rx.captured).toHaveLength(1);
    const { headers, body } = rx.captured[0]!;
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["idempotency-key"]).toBe(`${run}-7`);
    expect(headers["x-cutover-generation"]).toBe("3");
    expect(headers["x-cutover-topic"]).toBe("order.placed");
    expect(headers.traceparent).toBe(`00-${"a".repeat(32)}-${"b".repeat(16)}-01`);
    expect(headers.authorization).toBe("Bearer static-token");
    expect(JSON.parse(body.toString())).toEqual({
      id: "1007",
      topic: "order.placed",
      payload: { n: 7 },
      headers: { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` },
      idempotencyKey: `${run}-7`,
      orderingKey: "k1",
      generation: 3,
      createdAt: "2026-01-02T03:04:05.000Z",
    });
    const timestamp = headers["x-cutover-timestamp"] as string;
    const signature = headers["x-cutover-signature"] as string;
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature({ secret: SECRET, timestamp, body, signature })).toBe(true);
    expect(
      verifyWebhookSignature({ secret: SECRET, timestamp, body: body.toString("utf8"), signature }),
    ).toBe(true);
    expect(relay.health()).toEqual({ ok: true, degraded: false });
  });

  it("verify fails on a tampered body, a wrong secret, a stale or future timestamp and malformed headers; accepts a rotated secret", () => {
    const body = JSON.stringify({ id: "1", payload: { amount: 100 } });
    const now = Date.now();
    const timestamp = String(Math.floor(now / 1000));
    const signature = signWebhookPayload(SECRET, timestamp, body);
    const ok = { secret: SECRET, timestamp, body, signature, now };
    expect(verifyWebhookSignature(ok)).toBe(true);
    expect(verifyWebhookSignature({ ...ok, body: body.replace("100", "900") })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, secret: "whsec_another_secret_value" })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, now: now + 301_000 })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, now: now - 301_000 })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, now: now + 60_000, toleranceSec: 30 })).toBe(false);
    // The timestamp is signed: moving it forward to beat the window breaks the signature.
    const later = String(Number(timestamp) + 600);
    expect(verifyWebhookSignature({ ...ok, timestamp: later, now: now + 600_000 })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, signature: undefined })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, timestamp: "yesterday" })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, signature: signature.slice(0, 40) })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, signature: signature.replace("v1=", "v0=") })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, secret: ["whsec_the_new_secret_value", SECRET] })).toBe(true);
    expect(verifyWebhookSignature({ ...ok, signature: `v1=${"0".repeat(64)}, ${signature}` })).toBe(true);
  });

  it("2xx is done; 4xx (not 408/429) and redirects are permanent (dead now); 5xx, 408 and 429 are retryable and degrade health", async () => {
    const statuses = [204, 400, 404, 422, 301, 408, 429, 500, 503, 200];
    const rx = await receiver((n) => ({ status: statuses[n - 1]!, body: "x".repeat(500) }));
    const relay = webhookRelay(rx.url);
    const run = runId();
    const results: Array<{ status: number; outcome: string; message?: string }> = [];
    for (const [i, status] of statuses.entries()) {
      const err = await relay.handler.handle(testEvent(i, { run }), testCtx()).then(
        () => undefined,
        (e: unknown) => e,
      );
      const outcome =
        err === undefined
          ? "done"
          : isPermanentError(err)
            ? "dead"
            : err instanceof RelayError
              ? err.code
              : "other";
      results.push({ status, outcome });
      if (status === 503) expect(relay.health()).toMatchObject({ ok: true, degraded: true });
      if (status === 503) expect(relay.health().lastError).toContain("HTTP 503");
    }
    expect(results).toEqual([
      { status: 204, outcome: "done" },
      { status: 400, outcome: "dead" },
      { status: 404, outcome: "dead" },
      { status: 422, outcome: "dead" },
      { status: 301, outcome: "dead" },
      { status: 408, outcome: "RELAY_REJECTED" },
      { status: 429, outcome: "RELAY_REJECTED" },
      { status: 500, outcome: "RELAY_REJECTED" },
      { status: 503, outcome: "RELAY_REJECTED" },
      { status: 200, outcome: "done" },
    ]);
    expect(relay.health()).toEqual({
      ok: true,
      degraded: false,
      lastError: expect.stringContaining("HTTP 503"),
    });
  });

  it("a slow receiver times out (retryable), the consumer's abort signal cancels the request, a refused connection degrades until the receiver is back", async () => {
    const rx = await receiver(() => ({ status: 200, delayMs: 2_000 }));
    const relay = webhookRelay(rx.url, { requestTimeoutMs: 100 });
    const run = runId();
    const timedOut = await failure(relay.handler.handle(testEvent(1, { run }), testCtx()));
    expect(timedOut).toBeInstanceOf(RelayError);
    expect((timedOut as RelayError).code).toBe("RELAY_TIMEOUT");

    const slow = webhookRelay(rx.url, { name: "relay.slow" });
    const abort = new AbortController();
    const pending = slow.handler.handle(testEvent(2, { run }), testCtx(abort.signal));
    setTimeout(() => abort.abort(new Error("lease lost")), 50);
    expect(((await failure(pending)) as Error).message).toBe("lease lost");

    // A port that nothing listens on: connection refused.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const down = webhookRelay(`http://127.0.0.1:${port}/hook`, { name: "relay.down" });
    const refused = await failure(down.handler.handle(testEvent(3, { run }), testCtx()));
    expect((refused as RelayError).code).toBe("RELAY_UNAVAILABLE");
    expect(refused).toHaveProperty("message", expect.stringContaining("ECONNREFUSED"));
    expect(down.health()).toMatchObject({ ok: true, degraded: true });

    const back = http.createServer((_req, res) => res.writeHead(200).end());
    await new Promise<void>((r) => back.listen(port, "127.0.0.1", r));
    cleanups.push(() => new Promise<void>((r) => back.close(() => r())));
    await down.handler.handle(testEvent(3, { run }), testCtx());
    expect(down.health()).toMatchObject({ ok: true, degraded: false });
  });

  it("never logs or reports the secret; subscribes with its topic patterns; after close() it refuses (retryable)", async () => {
    const rx = await receiver(() => ({ status: 500, body: `echo ${SECRET}` }));
    const logger = memoryLogger();
    const relay = webhookRelay(rx.url, {}, logger);
    const run = runId();
    const err = await failure(relay.handler.handle(testEvent(1, { run }), testCtx()));
    expect(JSON.stringify(logger.lines)).not.toContain(SECRET);
    expect(logger.lines.map((l) => l.msg)).toContain("relay degraded");
    expect(String((err as Error).message)).not.toContain(SECRET);
    expect(relay.health().lastError).not.toContain(SECRET);
    expect(relay.health().lastError).toContain("***");

    // The relay subscribes with its own patterns, so the consumer's claim
    // filters topics in SQL (packages/outbox/test/consumer-topics.test.ts
    // proves non-matching events are never claimed or handled).
    expect(relay.handler.topics).toEqual(["order.*"]);
    expect(rx.captured).toHaveLength(1);

    await relay.close();
    await relay.close();
    expect(relay.health()).toMatchObject({ ok: false });
    const closed = await failure(relay.handler.handle(testEvent(3, { run }), testCtx()));
    expect((closed as RelayError).code).toBe("RELAY_CLOSED");
    expect(isPermanentError(closed)).toBe(false);
  });
});
