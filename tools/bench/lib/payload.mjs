// The one event every system carries: a small order-like JSON document whose
// `seq` lets the harness match a handler start to its publish commit.
export const TOPIC = "bench.event";
export const HANDLER = "bench.noop";

export function payloadFor(seq) {
  return { seq, orderId: `ord-${seq}`, amount: 4200, currency: "EUR" };
}
