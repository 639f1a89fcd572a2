/**
 * The handler set as the other rooms ask about it: which handlers an event's
 * topic reaches, which topics the claim filters on, and which handlers may
 * start eagerly. Built once per consumer; nothing here changes after that
 * except the bounded topic cache.
 */
import { isTopicPattern, likePatternFor, topicMatches } from "../events.js";
import { ALL_TOPICS, type HandlerDefinition } from "../handler.js";
import type { TopicFilter } from "./sql.js";

export class HandlerIndex {
  /** Every distinct subscription of the handler set, sorted. */
  readonly subscriptions: string[];
  /** The claim's topic filter; null when some handler subscribes to `*`. */
  readonly topics: TopicFilter | null;
  /**
   * Handlers that subscribe to one exact topic: a (handler, key) pair of
   * theirs belongs to one outbox row only (topic and key are unique), so
   * such a run may start before the chunk's event_handled insert answers
   * (docs/guarantees.md, "Eager start"). Pairwise topics and names for the
   * claim's `seen` probe.
   */
  readonly eager: { handlers: ReadonlySet<HandlerDefinition>; topics: string[]; names: string[] };
  /** Topic -> the handlers whose subscriptions match it (bounded cache). */
  private readonly byTopic = new Map<string, HandlerDefinition[]>();

  constructor(readonly all: readonly HandlerDefinition[]) {
    const subs = new Set<string>();
    for (const h of all) for (const t of h.topics) subs.add(t);
    this.subscriptions = [...subs].sort();
    if (subs.has(ALL_TOPICS)) {
      this.topics = null;
    } else {
      const exact = this.subscriptions.filter((t) => !isTopicPattern(t));
      const likes = this.subscriptions.filter((t) => isTopicPattern(t)).map(likePatternFor);
      this.topics = { exact, likes };
    }
    for (const t of this.subscriptions) {
      if (t !== ALL_TOPICS && !isTopicPattern(t)) this.for(t);
    }
    const eager = all.filter(
      (h) => h.topics.length === 1 && h.topics[0] !== ALL_TOPICS && !isTopicPattern(h.topics[0]!),
    );
    this.eager = {
      handlers: new Set(eager),
      topics: eager.map((h) => h.topics[0]!),
      names: eager.map((h) => h.name),
    };
  }

  /** The handlers whose subscriptions match `topic`, in handler order. */
  for(topic: string): HandlerDefinition[] {
    let hs = this.byTopic.get(topic);
    if (hs === undefined) {
      hs = this.all.filter((h) => h.topics.some((t) => topicMatches(t, topic)));
      if (this.byTopic.size >= 10_000) this.byTopic.clear();
      this.byTopic.set(topic, hs);
    }
    return hs;
  }

  /** The topic filter's parameters, appended after a statement's own (claim, remaining). */
  filterParams(): unknown[] {
    return this.topics ? [this.topics.exact, this.topics.likes] : [];
  }
}
