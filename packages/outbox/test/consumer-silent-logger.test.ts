import { describe, expect, it } from "vitest";
import { resolveOptions } from "../src/consumer/options.js";
import { silentLogger } from "../src/logger.js";

const handlers = [{ name: "billing.charge", topics: ["order.placed"], async handle() {} }];

// The consumer attaches its outcome log only to a logger that is not the
// silent one, recognised by identity: a copy of it would make every done
// event build a 'handled' payload and a debug line nobody reads.
describe("consumer options: logger", () => {
  it("without a logger, the resolved logger is the silent logger itself", () => {
    const o = resolveOptions({ databaseUrl: "postgres://localhost/x", generation: 1, handlers });
    expect(o.logger).toBe(silentLogger);
  });

  it("a logger given is kept as is", () => {
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    const o = resolveOptions({ databaseUrl: "postgres://localhost/x", generation: 1, handlers, logger });
    expect(o.logger).toBe(logger);
  });
});
