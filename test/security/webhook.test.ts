import { signWebhookPayload, verifyWebhookSignature } from "@cutover/worker";
import { describe, expect, it } from "vitest";

/** A webhook receiver using the worker's verify helper must reject anything tampered. */
const secret = "whsec-test-3f9a";
const now = 1_800_000_000_000;
const timestamp = String(now / 1000);
const body = JSON.stringify({ topic: "order.placed", payload: { orderId: "o-1", amount: 100 } });
const signature = signWebhookPayload(secret, timestamp, body);
const verify = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
  verifyWebhookSignature({ secret, timestamp, body, signature, now, ...over });

describe("webhook signatures", () => {
  it("accept the untouched body (string or bytes)", () => {
    expect(verify({})).toBe(true);
    expect(verify({ body: Buffer.from(body) })).toBe(true);
  });

  it("reject a tampered body: one changed character, re-serialized JSON, appended whitespace, an empty body", () => {
    expect(verify({ body: body.replace("100", "900") })).toBe(false);
    expect(
      verify({ body: JSON.stringify({ payload: { amount: 100, orderId: "o-1" }, topic: "order.placed" }) }),
    ).toBe(false);
    expect(verify({ body: `${body} ` })).toBe(false);
    expect(verify({ body: "" })).toBe(false);
  });

  it("reject a tampered timestamp, a replay outside the window, the wrong secret, and malformed signatures", () => {
    expect(verify({ timestamp: String(now / 1000 + 1) })).toBe(false);
    expect(verify({ now: now + 301_000 })).toBe(false);
    expect(verify({ secret: "another-secret" })).toBe(false);
    for (const s of [
      "",
      "v1=",
      "v0=abc",
      signature.toUpperCase().replace("V1=", "v2="),
      `v1=${"0".repeat(64)}`,
      "x".repeat(5000),
      undefined,
      null,
    ]) {
      expect(verify({ signature: s })).toBe(false);
    }
  });

  it("accept during a secret rotation when any current secret matches", () => {
    expect(verify({ secret: ["new-secret", secret] })).toBe(true);
    expect(verify({ secret: ["new-secret", "older-secret"] })).toBe(false);
  });
});
