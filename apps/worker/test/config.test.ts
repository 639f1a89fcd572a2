import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { settingSpec } from "@cutover/outbox/internal";
import {
  ConfigError,
  loadConfig,
  redactText,
  redactUrl,
  tenantIdOf,
  traceIdOf,
  WORKER_DEFAULTS,
} from "@cutover/worker";
import { describe, expect, it } from "vitest";
import { CONSUMER_VARIABLES } from "../src/config.js";

const URL_ = "postgres://app:s3cret-Passw0rd@db.internal:5432/app";

function error(env: Record<string, string>, opts = {}): ConfigError {
  try {
    loadConfig(env, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("applies every default from one place", () => {
    const c = loadConfig({ DATABASE_URL: URL_ }, { cwd: "/srv" });
    expect(c).toMatchObject({
      schema: "cutover",
      generation: undefined,
      handlersPath: undefined,
      port: WORKER_DEFAULTS.port,
      host: "0.0.0.0",
      logLevel: "info",
      shutdownTimeoutMs: 25_000,
      consumer: {
        concurrency: 4,
        batchSize: 500,
        pollIntervalMs: 1000,
        maxAttempts: 10,
        listen: true,
        completion: "delete",
      },
    });
    expect(loadConfig({ DATABASE_URL: URL_, OUTBOX_COMPLETION: " Keep " }).consumer.completion).toBe("keep");
    const h = loadConfig(
      { DATABASE_URL: URL_, OUTBOX_HANDLERS: "dist/h.js", CUTOVER_GENERATION: " 7 " },
      { cwd: "/srv" },
    );
    expect(h).toMatchObject({ handlersPath: "/srv/dist/h.js", generation: 7 });
  });

  it("names the variable and the problem, and never echoes the database password", () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{}, "DATABASE_URL", /is not set/],
      [{ DATABASE_URL: "s3cret-Passw0rd" }, "DATABASE_URL", /is not a valid URL/],
      [{ DATABASE_URL: "mysql://app:s3cret-Passw0rd@h/db" }, "DATABASE_URL", /postgres:\/\//],
      [{ DATABASE_URL: URL_, OUTBOX_BATCH_SIZE: "1001" }, "OUTBOX_BATCH_SIZE", /from 1 to 1000; got "1001"/],
      [{ DATABASE_URL: URL_, OUTBOX_LEASE_MS: "1.5" }, "OUTBOX_LEASE_MS", /must be an integer/],
      [{ DATABASE_URL: URL_, LOG_LEVEL: "loud" }, "LOG_LEVEL", /must be one of/],
      [
        { DATABASE_URL: URL_, OUTBOX_COMPLETION: "drop" },
        "OUTBOX_COMPLETION",
        /must be delete or keep; got "drop"/,
      ],
      [{ DATABASE_URL: URL_, OUTBOX_WORKER_ID: "a b" }, "OUTBOX_WORKER_ID", /may only contain/],
      [{ DATABASE_URL: URL_, CUTOVER_GENERATION: "0" }, "CUTOVER_GENERATION", /positive integer/],
    ];
    for (const [env, variable, message] of cases) {
      const err = error(env);
      expect(err.variable).toBe(variable);
      expect(err.code).toBe("CONFIG_INVALID");
      expect(err.message.startsWith(`${variable} `)).toBe(true);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain("s3cret-Passw0rd");
      expect(err.message).not.toContain("\n");
    }
    expect(error({ DATABASE_URL: URL_ }, { needGeneration: true }).variable).toBe("CUTOVER_GENERATION");
    expect(error({ DATABASE_URL: URL_ }, { needHandlers: true }).variable).toBe("OUTBOX_HANDLERS");
    expect(loadConfig({ DATABASE_URL: URL_, OUTBOX_RELAYS: "[]" }, { needHandlers: true }).relays).toBe("[]");
  });
});

describe("docs/worker.md's configuration reference", () => {
  const docs = readFileSync(new URL("../../../docs/worker.md", import.meta.url), "utf8");
  const section = docs.slice(
    docs.indexOf("## Configuration reference"),
    docs.indexOf("## The handler module"),
  );
  /** Each table row's variables (a row may name several: `A` / `B`) and its default column. */
  const rows = section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) => {
      const [names = "", fallback = ""] = line.split("|").slice(1);
      return { names: [...names.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!), fallback };
    });

  it("lists exactly the variables loadConfig reads", () => {
    const read = new Set<string>();
    const env = new Proxy({ DATABASE_URL: URL_ } as Record<string, string | undefined>, {
      get(target, name) {
        if (typeof name === "string") read.add(name);
        return target[name as string];
      },
    });
    loadConfig(env, { cwd: "/srv" });
    expect(rows.flatMap((r) => r.names).sort()).toEqual([...read].sort());
    for (const [name] of CONSUMER_VARIABLES) expect(read).toContain(name);
  });

  it("gives each consumer variable its option's default", () => {
    for (const [name, option] of CONSUMER_VARIABLES) {
      const row = rows.find((r) => r.names.includes(name));
      const position = row!.names.indexOf(name);
      const shown = [...row!.fallback.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      expect(shown[position], name).toBe(String(settingSpec(option).default));
    }
  });
});

describe("redaction", () => {
  it("redactUrl masks the password and keeps the rest", () => {
    expect(redactUrl(URL_)).toBe("postgres://app:***@db.internal:5432/app");
    expect(redactUrl("postgres://app@db/app")).toBe("postgres://app@db/app");
    expect(redactUrl("postgres://app:p%40ss@db/app")).toBe("postgres://app:***@db/app");
    expect(redactUrl("not a url postgres://u:pw@h")).toBe("not a url postgres://u:***@h");
  });

  it("redactText masks URL credentials and registered secrets (loadConfig registers the password)", () => {
    loadConfig({ DATABASE_URL: "postgres://app:Zq9-only-here@db/app" });
    expect(redactText('password authentication failed: "Zq9-only-here"')).toBe(
      'password authentication failed: "***"',
    );
    expect(redactText("amqp://guest:guest@rabbit:5672")).toBe("amqp://guest:***@rabbit:5672");
  });
});

describe("event envelope fields", () => {
  it("takes trace_id from a valid W3C traceparent only", () => {
    expect(traceIdOf({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" })).toBe(
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
    expect(traceIdOf({ traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01" })).toBeNull();
    expect(traceIdOf({ traceparent: "garbage" })).toBeNull();
    expect(traceIdOf({})).toBeNull();
  });

  it("takes tenant_id from the usual header spellings", () => {
    expect(tenantIdOf({ tenant_id: "a" })).toBe("a");
    expect(tenantIdOf({ "x-tenant-id": "b" })).toBe("b");
    expect(tenantIdOf({})).toBeNull();
  });
});

describe("CUTOVER_GENERATION_FILE", () => {
  it("reads the generation from a file (trimmed) when CUTOVER_GENERATION is unset; the variable wins", () => {
    const dir = mkdtempSync(join(tmpdir(), "cutover-gen-"));
    try {
      writeFileSync(join(dir, "generation"), "12\n");
      const needs = { needGeneration: true, cwd: dir };
      expect(
        loadConfig({ DATABASE_URL: URL_, CUTOVER_GENERATION_FILE: "generation" }, needs).generation,
      ).toBe(12);
      expect(
        loadConfig(
          { DATABASE_URL: URL_, CUTOVER_GENERATION_FILE: "generation", CUTOVER_GENERATION: "3" },
          needs,
        ).generation,
      ).toBe(3);
      const missing = error({ DATABASE_URL: URL_, CUTOVER_GENERATION_FILE: "nope" }, needs);
      expect(missing.variable).toBe("CUTOVER_GENERATION_FILE");
      expect(missing.message).toBe(`CUTOVER_GENERATION_FILE cannot read ${join(dir, "nope")} (ENOENT)`);
      writeFileSync(join(dir, "generation"), "");
      expect(error({ DATABASE_URL: URL_, CUTOVER_GENERATION_FILE: "generation" }, needs).message).toMatch(
        /^CUTOVER_GENERATION_FILE must hold a positive integer .* holds ""$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
