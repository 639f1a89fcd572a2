import type { OutboxEvent } from "./types.js";

/** What every relay sends: the event as JSON, with its identity and generation. */
export interface EventEnvelope {
  id: string;
  topic: string;
  payload: unknown;
  headers: Record<string, string>;
  idempotencyKey: string;
  orderingKey: string | null;
  generation: number;
  /** ISO 8601. */
  createdAt: string;
}

export function eventEnvelope(event: OutboxEvent): EventEnvelope {
  return {
    id: event.id,
    topic: event.topic,
    payload: event.payload,
    headers: event.headers,
    idempotencyKey: event.idempotencyKey,
    orderingKey: event.orderingKey,
    generation: event.generation,
    createdAt: event.createdAt.toISOString(),
  };
}

/** Replaces "{topic}" in a stream name / routing key template. */
export function fillTopic(template: string, topic: string): string {
  return template.split("{topic}").join(topic);
}
