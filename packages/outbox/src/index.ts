export {
  type Consumer,
  type ConsumerHealth,
  createConsumer,
} from "./consumer/consumer.js";
export type { ConsumerEvents, ConsumerState } from "./consumer/events.js";
export type { ConsumerMetrics, Histogram, LabeledCounter } from "./consumer/metrics.js";
export { CONSUMER_DEFAULTS, type ConsumerOptions, type RetentionOptions } from "./consumer/options.js";
export type { DbHandle, KyselyLike, PgClientLike, Queryable } from "./db.js";
export { CutoverError, type CutoverErrorCode, isCutoverError, PayloadValidationError } from "./errors.js";
export {
  defineEvents,
  type EventCatalog,
  type EventSchemas,
  isTopicPattern,
  isValidTopicSubscription,
  type PayloadIn,
  type PayloadOut,
  TOPIC_PATTERN,
  topicMatches,
} from "./events.js";
export {
  allocateGeneration,
  type Deployment,
  type GenerationOptions,
  listDeployments,
  parseGeneration,
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
export { channelFor, DEFAULT_SCHEMA, quoteIdent, validateSchemaName } from "./identifiers.js";
export { type Logger, silentLogger } from "./logger.js";
export {
  assertSchemaCurrent,
  MIGRATIONS_TABLE,
  type MigrateOptions,
  type MigrationFile,
  migrate,
  migrationFiles,
  migrationsDir,
  pendingMigrations,
} from "./migrate.js";
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
export { DEFAULT_MAX_PAYLOAD_BYTES } from "./payload.js";
export {
  type BatchItem,
  createPublisher,
  type Publisher,
  type PublisherOptions,
  type PublishOptions,
  type PublishResult,
} from "./publisher.js";
export { isConnectionError, SqlState, sqlStateOf } from "./sqlstate.js";
