/**
 * The public API of @cutover/outbox, covered by semver: what docs/library.md
 * documents. What the worker and the tools need beyond it comes from
 * `@cutover/outbox/internal` (src/internal.ts), which is not.
 */
export {
  type Consumer,
  type ConsumerHealth,
  createConsumer,
} from "./consumer/consumer.js";
export type { ConsumerEvents, ConsumerState } from "./consumer/events.js";
export type { ConsumerMetrics, Histogram, LabeledCounter } from "./consumer/metrics.js";
export { CONSUMER_DEFAULTS, type ConsumerOptions, type RetentionOptions } from "./consumer/options.js";
export type { DbHandle, KyselyLike, PgClientLike } from "./db.js";
export { CutoverError, type CutoverErrorCode, isCutoverError, PayloadValidationError } from "./errors.js";
export {
  defineEvents,
  type EventCatalog,
  type EventSchemas,
  type PayloadIn,
  type PayloadOut,
} from "./events.js";
export {
  allocateGeneration,
  type Deployment,
  type GenerationOptions,
  listDeployments,
  resolveGeneration,
} from "./generation.js";
export {
  ALL_TOPICS,
  defineHandler,
  type HandlerContext,
  type HandlerDefinition,
  isPermanentError,
  type MatchedTopics,
  type OutboxEvent,
  PermanentError,
  type TopicSubscription,
} from "./handler.js";
export type { Logger } from "./logger.js";
export { type MigrateOptions, type MigrationFile, migrate, migrationFiles } from "./migrate.js";
export {
  type DeadEvent,
  type GenerationStatus,
  listDead,
  type OutboxStatus,
  outboxStatus,
  pruneProcessed,
  retryDead,
  type WorkerStatus,
} from "./ops.js";
export {
  type BatchItem,
  createPublisher,
  type Publisher,
  type PublisherOptions,
  type PublishOptions,
  type PublishResult,
} from "./publisher.js";
