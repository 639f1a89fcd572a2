import type { DbHandle } from "@cutover/outbox";
import * as outbox from "@cutover/outbox";
import * as internal from "@cutover/outbox/internal";
import type { Kysely, Transaction } from "kysely";
import type pg from "pg";
import { describe, expect, expectTypeOf, it } from "vitest";

describe("the public surface of @cutover/outbox", () => {
  it("exports exactly these runtime names: adding one is a deliberate act (docs/library.md documents it)", () => {
    expect(Object.keys(outbox).sort()).toEqual([
      "ALL_TOPICS",
      "CONSUMER_DEFAULTS",
      "CutoverError",
      "PayloadValidationError",
      "PermanentError",
      "allocateGeneration",
      "createConsumer",
      "createPublisher",
      "defineEvents",
      "defineHandler",
      "isCutoverError",
      "isPermanentError",
      "listDead",
      "listDeployments",
      "migrate",
      "migrationFiles",
      "outboxStatus",
      "pruneProcessed",
      "resolveGeneration",
      "retryDead",
    ]);
  });

  it("keeps internals behind @cutover/outbox/internal, not in the index", () => {
    const overlap = Object.keys(internal).filter((name) => name in outbox);
    expect(overlap).toEqual([]);
    expect(typeof internal.quoteIdent).toBe("function");
  });

  it("types database handles: pg Client, PoolClient, Pool and kysely Kysely, Transaction are DbHandles", () => {
    expectTypeOf<pg.Client>().toExtend<DbHandle>();
    expectTypeOf<pg.PoolClient>().toExtend<DbHandle>();
    expectTypeOf<pg.Pool>().toExtend<DbHandle>();
    expectTypeOf<Kysely<Record<string, never>>>().toExtend<DbHandle>();
    expectTypeOf<Transaction<Record<string, never>>>().toExtend<DbHandle>();
    expectTypeOf<string>().not.toExtend<DbHandle>();
    expectTypeOf(outbox.allocateGeneration).parameter(0).toEqualTypeOf<DbHandle>();
    expectTypeOf(outbox.outboxStatus).parameter(0).toEqualTypeOf<DbHandle>();
  });

  it("derives CONSUMER_DEFAULTS from the options schema, frozen", () => {
    expect(outbox.CONSUMER_DEFAULTS).toMatchObject({
      schema: "cutover",
      concurrency: 4,
      batchSize: 500,
      backoff: { baseMs: 1000, maxMs: 300_000 },
      retention: { doneAfterMs: 86_400_000, batchSize: 1000 },
      listen: true,
      logEvents: true,
    });
    expect(Object.isFrozen(outbox.CONSUMER_DEFAULTS.retention)).toBe(true);
    expect(internal.settingSpec("concurrency")).toEqual({ kind: "integer", min: 1, max: 256, default: 4 });
    expect(internal.settingSpec("listen")).toEqual({ kind: "boolean", default: true });
  });

  it("names the option and its limits in every consumer option error", () => {
    const attempt = (extra: Record<string, unknown>) => {
      try {
        outbox.createConsumer({ databaseUrl: "postgres://h/db", generation: 1, handlers: [], ...extra });
      } catch (e) {
        return e as Error;
      }
      throw new Error("expected an error");
    };
    expect(attempt({ concurrency: 0 }).message).toBe(
      "consumer option concurrency must be an integer from 1 to 256; got 0",
    );
    expect(attempt({ backoff: { maxMs: 1.5 } }).message).toBe(
      "consumer option backoff.maxMs must be an integer from 0 to 2147483647; got 1.5",
    );
    expect(attempt({ listen: "yes" }).message).toBe(
      'consumer option listen must be true or false; got "yes"',
    );
    expect(attempt({ workerId: "" }).message).toBe(
      'consumer option workerId must be a string of 1 to 100 characters; got ""',
    );
    expect(attempt({ staleAfterMs: 100, heartbeatIntervalMs: 200 }).message).toBe(
      "consumer option staleAfterMs (100) must exceed heartbeatIntervalMs (200), or live workers look dead",
    );
    expect(outbox.isCutoverError(attempt({ maxAttempts: 0 }), "CONFIG_INVALID")).toBe(true);
  });
});
