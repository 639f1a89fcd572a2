/**
 * Topic filters of a relay: exactly the library's handler subscriptions, so
 * a relay subscribes with its filters as they are and the consumer claims
 * only the topics some relay (or handler) wants. A filter is one of:
 * - `*`: every topic;
 * - a pattern, a topic prefix ending in `.`, `:` or `/` followed by `*`:
 *   `order.*` matches every topic that starts with `order.` (any depth:
 *   `order.placed`, `order.line.added`), never `order` itself;
 * - an exact topic name, e.g. `order.placed`.
 * A `*` anywhere else is invalid.
 */
import { isValidTopicSubscription, topicMatches } from "@cutover/outbox/internal";

export function isValidTopicFilter(filter: string): boolean {
  return isValidTopicSubscription(filter);
}

/** True when `topic` is selected by `filter` (see the module doc for the forms). */
export function matchTopic(filter: string, topic: string): boolean {
  return topicMatches(filter, topic);
}

/** Compiles a list of filters into one predicate (any filter matches). */
export function topicMatcher(filters: readonly string[]): (topic: string) => boolean {
  return (topic) => filters.some((f) => topicMatches(f, topic));
}
