/**
 * @cutover/worker: the `outbox-worker` container app. Handler-module authors
 * import their helpers from here; the rest is the CLI (see docs/worker.md).
 */
export {
  defineEvents,
  defineHandler,
  type HandlerContext,
  type HandlerDefinition,
  type OutboxEvent,
  PermanentError,
} from "@cutover/outbox";
export { ConfigError, type Env, loadConfig, WORKER_DEFAULTS, type WorkerConfig } from "./config.js";
export { tenantIdOf, traceIdOf } from "./logging.js";
export { redactText, redactUrl } from "./redact.js";
export {
  signWebhookPayload,
  type VerifyWebhookSignatureOptions,
  verifyWebhookSignature,
  WEBHOOK_HEADERS,
} from "./relays/verify.js";
export { defineWorkerModule, loadWorkerModule, type WorkerModule } from "./worker-module.js";
