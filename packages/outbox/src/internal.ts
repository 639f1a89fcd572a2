/**
 * `@cutover/outbox/internal`: what the outbox-worker and the repository's
 * tools use beyond the public API (src/index.ts). NOT covered by semver: any
 * of it may change or go in a minor or patch release. Applications import
 * `@cutover/outbox`.
 */
export {
  type ConsumerSettings,
  consumerSettingsSchema,
  SETTING_RELATIONS,
  type SettingPath,
  type SettingSpec,
  settingSpec,
} from "./consumer/options.js";
export type { Queryable } from "./db.js";
export { isTopicPattern, isValidTopicSubscription, TOPIC_PATTERN, topicMatches } from "./events.js";
export { parseGeneration } from "./generation.js";
export { MAX_IN_FLIGHT } from "./handler.js";
export { channelFor, DEFAULT_SCHEMA, quoteIdent, validateSchemaName } from "./identifiers.js";
export { silentLogger } from "./logger.js";
export { assertSchemaCurrent, MIGRATIONS_TABLE, migrationsDir, pendingMigrations } from "./migrate.js";
export { DEFAULT_MAX_PAYLOAD_BYTES } from "./payload.js";
export { isConnectionError, SqlState, sqlStateOf } from "./sqlstate.js";
