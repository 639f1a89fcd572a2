#!/usr/bin/env node
// What building a handler context costs in V8, by shape (PROFILE.md section 7,
// "What is left"): an object literal with two accessors (run-handler.ts's
// ctx today: signal and logger built lazily), the same with plain data
// fields, and a class whose accessors live on the prototype (cheap, but then
// `{ ...ctx }` and Object.keys(ctx) no longer see signal and logger).
//   node --max-semi-space-size=8 tools/bench/profile/ctx-shape-micro.mjs
const N = 1_000_000;
const env = { workerId: "w" };
const tx = { query() {} };
function literalWithAccessors() {
  let ac;
  let logger;
  return {
    tx,
    get signal() {
      ac ??= {};
      return ac;
    },
    workerId: env.workerId,
    get logger() {
      logger ??= {};
      return logger;
    },
  };
}
const plainLiteral = () => ({ tx, signal: null, workerId: env.workerId, logger: null });
class PrototypeAccessors {
  constructor() {
    this.tx = tx;
    this.workerId = env.workerId;
    this.ac = undefined;
  }
  get signal() {
    this.ac ??= {};
    return this.ac;
  }
  get logger() {
    return {};
  }
}
const shapes = [
  ["literal with two accessors", literalWithAccessors],
  ["plain literal", plainLiteral],
  ["class, prototype accessors", () => new PrototypeAccessors()],
];
let sink;
for (let round = 0; round < 2; round++) {
  for (const [name, make] of shapes) {
    for (let i = 0; i < 100_000; i++) sink = make();
    const t = performance.now();
    for (let i = 0; i < N; i++) sink = make();
    console.log(`${name}: ${(((performance.now() - t) * 1000) / N).toFixed(3)} µs per context`);
  }
}
void sink;
