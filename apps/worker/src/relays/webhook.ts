import type { WebhookRelayConfig } from "./config.js";
import { eventEnvelope } from "./envelope.js";
import { RelayError } from "./errors.js";
import { RelayHealthState } from "./health.js";
import { assembleRelay, type Relay, type RelayDeps } from "./relay.js";
import { PermanentError } from "./types.js";
import { signWebhookPayload } from "./verify.js";

const RETRYABLE_4XX = new Set([408, 429]);

async function readSnippet(res: Response): Promise<string> {
  try {
    return (await res.text()).slice(0, 200).replace(/\s+/g, " ").trim();
  } catch {
    return "";
  }
}

/**
 * POSTs each event's envelope as JSON, signed with HMAC-SHA256. 2xx = done;
 * 4xx other than 408/429 (and redirects, which are not followed) = dead at
 * once (PermanentError); 5xx, 408, 429, network errors and timeouts = retry.
 * At-least-once: receivers dedupe on `Idempotency-Key`.
 */
export function createWebhookRelay(config: WebhookRelayConfig, deps: RelayDeps): Relay {
  const health = new RelayHealthState(config.name, "webhook", deps.logger, [config.secret]);
  const url = config.url;

  return assembleRelay(
    config,
    health,
    async (event, ctx) => {
      const body = JSON.stringify(eventEnvelope(event));
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = {
        ...config.headers,
        "content-type": "application/json",
        "user-agent": "cutover-relay/1",
        "idempotency-key": event.idempotencyKey,
        "x-cutover-generation": String(event.generation),
        "x-cutover-topic": event.topic,
        "x-cutover-event-id": event.id,
        "x-cutover-timestamp": timestamp,
        "x-cutover-signature": signWebhookPayload(config.secret, timestamp, body),
      };
      for (const h of ["traceparent", "tracestate"]) {
        const v = event.headers[h];
        if (v !== undefined) headers[h] = v;
      }

      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), config.requestTimeoutMs);
      const onAbort = () => controller.abort();
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      let res: Response;
      try {
        try {
          res = await fetch(url, {
            method: "POST",
            body,
            headers,
            signal: controller.signal,
            redirect: "manual",
          });
        } catch (err) {
          if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
          const timedOut = controller.signal.aborted;
          const cause = (err as { cause?: { code?: string; message?: string } }).cause;
          const detail = timedOut
            ? `no response within ${config.requestTimeoutMs} ms`
            : `request failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`;
          const failure = new RelayError(
            timedOut ? "RELAY_TIMEOUT" : "RELAY_UNAVAILABLE",
            config.name,
            detail,
            {
              cause: err,
            },
          );
          health.down(failure);
          throw failure;
        }
        if (res.status >= 200 && res.status < 300) {
          await res.arrayBuffer().catch(() => {});
          health.up();
          return;
        }
        const snippet = await readSnippet(res);
        const what = `receiver answered HTTP ${res.status}${snippet ? `: ${health.describe(snippet)}` : ""}`;
        if (res.status >= 500 || RETRYABLE_4XX.has(res.status)) {
          const failure = new RelayError("RELAY_REJECTED", config.name, what);
          health.down(failure);
          throw failure;
        }
        // The receiver is up and answered; retrying the same request cannot change a 4xx or a redirect.
        health.up();
        throw new PermanentError(
          `relay ${config.name}: ${what}${res.status < 400 ? " (redirects are not followed)" : ""}`,
        );
      } finally {
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", onAbort);
      }
    },
    async () => {},
  );
}
