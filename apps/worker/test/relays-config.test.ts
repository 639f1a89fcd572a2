import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isCutoverError } from "@cutover/outbox";
import { afterAll, describe, expect, it } from "vitest";
import {
  createRelays,
  isValidTopicFilter,
  loadRelaysConfig,
  matchTopic,
  RELAY_DEFAULTS,
} from "../src/relays/index.js";
import { memoryLogger } from "./relays-fixtures/events.js";

const SECRET = "s3cret-value-never-logged";
const dir = mkdtempSync(join(tmpdir(), "cutover-relays-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const webhook = {
  kind: "webhook",
  name: "relay.billing-webhook",
  topics: ["order.*"],
  url: "https://example.test/hook",
  secretEnv: "WEBHOOK_SECRET",
};

function loadError(env: Record<string, string | undefined>): { message: string; details: unknown } {
  try {
    loadRelaysConfig(env);
  } catch (err) {
    if (!isCutoverError(err, "CONFIG_INVALID")) throw err;
    return { message: err.message, details: err.details };
  }
  throw new Error("expected CONFIG_INVALID");
}

describe("OUTBOX_RELAYS", () => {
  it("unset or empty means no relays; inline JSON and a file path both load, with defaults applied and env secrets resolved", () => {
    expect(loadRelaysConfig({})).toEqual([]);
    expect(loadRelaysConfig({ OUTBOX_RELAYS: "  " })).toEqual([]);

    const relays = [
      webhook,
      {
        kind: "nats",
        name: "relay.nats",
        topics: ["*"],
        servers: "nats://127.0.0.1:4222",
        subjectPrefix: "events.",
      },
      {
        kind: "redis",
        name: "relay.redis",
        topics: ["order.placed"],
        urlEnv: "REDIS_URL",
        stream: "outbox:{topic}",
      },
      {
        kind: "rabbitmq",
        name: "relay.amqp",
        topics: ["order.*", "invoice.sent"],
        url: "amqp://localhost",
        exchange: "events",
      },
    ];
    const env = { WEBHOOK_SECRET: SECRET, REDIS_URL: "redis://:pw@127.0.0.1:6379/2" };
    const inline = loadRelaysConfig({ ...env, OUTBOX_RELAYS: JSON.stringify(relays) });
    const file = join(dir, "relays.json");
    writeFileSync(file, JSON.stringify(relays, null, 2));
    expect(loadRelaysConfig({ ...env, OUTBOX_RELAYS: file })).toEqual(inline);

    expect(inline[0]).toEqual({
      ...webhook,
      secretEnv: undefined,
      secret: SECRET,
      requestTimeoutMs: RELAY_DEFAULTS.webhook.requestTimeoutMs,
      maxInFlight: RELAY_DEFAULTS.webhook.maxInFlight,
    });
    expect(inline[0]).not.toHaveProperty("secretEnv");
    expect(inline[1]).toMatchObject({ ackTimeoutMs: 5000, subjectPrefix: "events." });
    expect(inline[2]).toMatchObject({ url: "redis://:pw@127.0.0.1:6379/2", dedupeWindowMs: 86_400_000 });
    expect(inline[3]).toMatchObject({ routingKey: "{topic}", mandatory: true });

    const built = createRelays(inline, { logger: memoryLogger() });
    expect(built.map((r) => [r.name, r.kind, r.handler.topics])).toEqual([
      ["relay.billing-webhook", "webhook", ["order.*"]],
      ["relay.nats", "nats", ["*"]],
      ["relay.redis", "redis", ["order.placed"]],
      ["relay.amqp", "rabbitmq", ["order.*", "invoice.sent"]],
    ]);
  });

  it("errors name the variable and the JSON path of the bad field", () => {
    const cases: Array<[unknown, RegExp, string]> = [
      [[{ ...webhook, name: "billing" }], /scope-qualified/, "$[0].name"],
      [[{ ...webhook, topics: ["order*"] }], /prefix filter/, "$[0].topics[0]"],
      [[{ ...webhook, topics: [] }], /at least one topic/, "$[0].topics"],
      [[{ ...webhook, url: "ftp://x" }], /http\(s\) URL/, "$[0].url"],
      [[{ ...webhook, secretEnv: undefined }], /exactly one of secret or secretEnv/, "$[0].secretEnv"],
      [[webhook, { ...webhook, kind: "kafka" }], /./, "$[1].kind"],
      [[webhook, { ...webhook, urll: "typo" }], /urll/, "$[1]"],
      [[webhook, { ...webhook }], /duplicate relay name/, "$[1].name"],
      [
        [
          {
            kind: "redis",
            name: "relay.r",
            topics: ["*"],
            url: "redis://x",
            stream: "s",
            dedupeWindowMs: -1,
          },
        ],
        /./,
        "$[0].dedupeWindowMs",
      ],
    ];
    for (const [value, message, path] of cases) {
      const err = loadError({ WEBHOOK_SECRET: SECRET, OUTBOX_RELAYS: JSON.stringify(value) });
      expect(err.message).toMatch(/^OUTBOX_RELAYS: /);
      expect(err.message).toContain(path);
      expect(err.message).toMatch(message);
      expect(err.details).toMatchObject({ variable: "OUTBOX_RELAYS", path });
    }
  });

  it("a missing secret variable, an unreadable file and broken JSON are named; secrets never appear in errors", () => {
    expect(loadError({ OUTBOX_RELAYS: JSON.stringify([webhook]) }).message).toBe(
      "OUTBOX_RELAYS: $[0].secretEnv: environment variable WEBHOOK_SECRET is not set",
    );
    expect(
      loadError({ WEBHOOK_SECRET: "short", OUTBOX_RELAYS: JSON.stringify([webhook]) }).message,
    ).toContain("WEBHOOK_SECRET must be at least 16 characters");
    const missing = join(dir, "nope.json");
    expect(loadError({ OUTBOX_RELAYS: missing }).message).toBe(
      `OUTBOX_RELAYS (file ${missing}): cannot read the file (ENOENT); set it to inline JSON or a JSON file path`,
    );
    const bad = join(dir, "bad.json");
    writeFileSync(bad, `[{"kind":"webhook","secret":"${SECRET}",}]`);
    const broken = loadError({ OUTBOX_RELAYS: bad }).message;
    expect(broken).toMatch(/^OUTBOX_RELAYS \(file .*bad\.json\): is not valid JSON/);
    expect(broken).not.toContain(SECRET);
    const inlineBroken = loadError({ OUTBOX_RELAYS: `[{"secret":"${SECRET}"` }).message;
    expect(inlineBroken).not.toContain(SECRET);
    expect(loadError({ OUTBOX_RELAYS: "{}" }).message).toBe(
      "OUTBOX_RELAYS: must be a JSON array of relay configs",
    );
    // Validation messages carry paths, never values.
    const tooShort = loadError({
      OUTBOX_RELAYS: JSON.stringify([{ ...webhook, secretEnv: undefined, secret: "shh-tiny" }]),
    });
    expect(tooShort.message).toContain("$[0].secret");
    expect(tooShort.message).not.toContain("shh-tiny");
  });

  it("topic filters: '*' matches all, 'order.*' matches below order. at any depth, anything else is exact", () => {
    expect(matchTopic("*", "anything")).toBe(true);
    expect(matchTopic("order.*", "order.placed")).toBe(true);
    expect(matchTopic("order.*", "order.line.added")).toBe(true);
    expect(matchTopic("order.*", "order")).toBe(false);
    expect(matchTopic("order.*", "orders.placed")).toBe(false);
    expect(matchTopic("order.placed", "order.placed")).toBe(true);
    expect(matchTopic("order.placed", "order.placed.v2")).toBe(false);
    // The library's pattern rule: the separator before "*" is ".", ":" or "/".
    expect(matchTopic("billing:*", "billing:invoice")).toBe(true);
    expect(matchTopic("svc/*", "svc/a/b")).toBe(true);
    expect(isValidTopicFilter("order*")).toBe(false);
    expect(isValidTopicFilter("order-*")).toBe(false);
    expect(isValidTopicFilter("*.placed")).toBe(false);
    expect(isValidTopicFilter("order.*.x")).toBe(false);
    expect(isValidTopicFilter("billing:*")).toBe(true);
  });
});
