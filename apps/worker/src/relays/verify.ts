import { createHmac, timingSafeEqual } from "node:crypto";

/** Request headers set by the webhook relay (lower-case, as node:http exposes them). */
export const WEBHOOK_HEADERS = {
  idempotencyKey: "idempotency-key",
  generation: "x-cutover-generation",
  topic: "x-cutover-topic",
  eventId: "x-cutover-event-id",
  timestamp: "x-cutover-timestamp",
  signature: "x-cutover-signature",
} as const;

/** Default replay window of {@link verifyWebhookSignature}: 5 minutes. */
export const DEFAULT_SIGNATURE_TOLERANCE_SEC = 300;

function hmacHex(secret: string, timestamp: string, body: string | Uint8Array): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}

/**
 * The `X-Cutover-Signature` value for a body: `v1=` + hex HMAC-SHA256(secret,
 * timestamp + "." + body), timestamp in Unix seconds.
 */
export function signWebhookPayload(secret: string, timestamp: string, body: string | Uint8Array): string {
  return `v1=${hmacHex(secret, timestamp, body)}`;
}

export interface VerifyWebhookSignatureOptions {
  /** The shared secret; several during a rotation (any one may match). */
  secret: string | readonly string[];
  /** The `X-Cutover-Timestamp` header (Unix seconds). */
  timestamp: string | null | undefined;
  /** The raw request body, exactly as received (not re-serialized JSON). */
  body: string | Uint8Array;
  /** The `X-Cutover-Signature` header: `v1=<hex>` (several comma-separated allowed). */
  signature: string | null | undefined;
  /** Replay window: the timestamp must be within this many seconds of now. Default 300. */
  toleranceSec?: number;
  /** Current time in ms (for tests). Default `Date.now()`. */
  now?: number;
}

/**
 * For webhook receivers: true when the signature matches the raw body under
 * one of the secrets and the timestamp is inside the replay window. Compares
 * in constant time; never throws on malformed input (returns false).
 */
export function verifyWebhookSignature(options: VerifyWebhookSignatureOptions): boolean {
  const { timestamp, signature, body } = options;
  const tolerance = options.toleranceSec ?? DEFAULT_SIGNATURE_TOLERANCE_SEC;
  if (typeof timestamp !== "string" || !/^\d{1,12}$/.test(timestamp)) return false;
  if (typeof signature !== "string" || signature.length > 4096) return false;
  const nowSec = (options.now ?? Date.now()) / 1000;
  if (Math.abs(nowSec - Number(timestamp)) > tolerance) return false;
  const candidates = signature
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.startsWith("v1=") && /^[0-9a-f]{64}$/i.test(s.slice(3)))
    .map((s) => Buffer.from(s.slice(3), "hex"));
  if (candidates.length === 0) return false;
  const secrets = typeof options.secret === "string" ? [options.secret] : options.secret;
  let ok = false;
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length === 0) continue;
    const expected = Buffer.from(hmacHex(secret, timestamp, body), "hex");
    // No early exit: every candidate is compared, so timing says nothing about which matched.
    for (const c of candidates) ok = timingSafeEqual(expected, c) || ok;
  }
  return ok;
}
