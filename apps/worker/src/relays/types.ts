/**
 * The handler contract of @cutover/outbox: a relay is nothing more than a
 * {@link HandlerDefinition}, so it gets the library's retries, dead letter,
 * fencing, metrics and ordering keys.
 */
export {
  ALL_TOPICS,
  type HandlerContext,
  type HandlerDefinition,
  type OutboxEvent,
  PermanentError,
} from "@cutover/outbox";
