// Example handler module for the Compose example (OUTBOX_HANDLERS=/app/handlers/index.mjs).
// Plain objects work; in TypeScript use defineWorkerModule / defineHandler from "@cutover/worker".
export const handlers = [
  {
    name: "example.log-order",
    topics: ["order.placed"],
    async handle(event, ctx) {
      ctx.logger.info({ event_id: event.id, order: event.payload }, "order received");
    },
  },
];
