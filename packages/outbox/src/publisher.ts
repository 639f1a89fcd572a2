import { z } from "zod";
import { type DbHandle, preparedName, toQueryable } from "./db.js";
import { CutoverError, type PayloadValidationError } from "./errors.js";
import type { EventCatalog, EventSchemas, PayloadIn } from "./events.js";
import { resolveGeneration } from "./generation.js";
import { channelFor, DEFAULT_SCHEMA, quoteIdent, validateSchemaName } from "./identifiers.js";
import { int, object, optionError } from "./option-errors.js";
import { DEFAULT_MAX_PAYLOAD_BYTES, serializeJson } from "./payload.js";
import { SqlState, sqlStateOf } from "./sqlstate.js";
import { startPublishSpan } from "./telemetry.js";
import { uuidv7 } from "./uuid.js";

export interface PublishOptions {
  /**
   * Deduplication key, unique per topic: publishing the same (topic, key)
   * again while its row is in the outbox is a no-op reported as
   * `duplicate: true`. With the consumer's default completion ("delete") a
   * handled event's row is gone, so a later publish of the key is stored
   * again and its handlers are skipped by event_handled (docs/guarantees.md,
   * "Completion by delete"). Handlers receive it to
   * dedupe external effects. Default: a UUIDv7 (RFC 9562): random, but
   * starting with the publish time in ms, so keys of one process sort in
   * publish order and go in at the right edge of the outbox's dedupe index.
   */
  idempotencyKey?: string;
  /** Events sharing an ordering key are handled one at a time, in publish order. */
  orderingKey?: string;
  /**
   * String headers carried with the event. With `@opentelemetry/api`
   * installed and a trace active, the publisher adds the W3C trace context
   * (`traceparent`, `tracestate`) to them (docs/observability.md).
   */
  headers?: Record<string, string>;
  /**
   * The tenant the event belongs to, stored in its own column: handlers see
   * it as `event.tenant`, the worker logs it (`tenant_id`), and dead letters
   * can be listed and retried by tenant. A non-empty string of at most
   * 200 characters. Default: none (null).
   */
  tenant?: string;
  /** Not claimable before this instant. Default: now (the transaction's clock). */
  availableAt?: Date;
}

export interface PublishResult {
  /** The outbox row id (bigint, as a decimal string); absent for a duplicate. */
  id: string | undefined;
  idempotencyKey: string;
  /** True when (topic, idempotencyKey) was already in the outbox: nothing new was written. */
  duplicate: boolean;
}

export type BatchItem<S extends EventSchemas> = {
  [T in keyof S & string]: { topic: T; payload: PayloadIn<S, T> } & PublishOptions;
}[keyof S & string];

const publisherOptionsSchema = z.object({
  /** The catalog returned by defineEvents({ topic: zodSchema }). */
  events: z.custom<EventCatalog<EventSchemas>>(
    (v) =>
      typeof (v as Partial<EventCatalog<EventSchemas>> | null)?.parse === "function" &&
      typeof (v as Partial<EventCatalog<EventSchemas>>).has === "function",
    {
      message:
        "must be the catalog returned by defineEvents({ topic: zodSchema }) (createPublisher needs `events`)",
    },
  ),
  /**
   * Anything that can run a query (pg Pool/Client, kysely), used once at
   * creation to check the generation was allocated.
   */
  db: z.custom<DbHandle>(),
  /** Running generation. Default: CUTOVER_GENERATION from `env`. */
  generation: z.custom<number>().optional(),
  /** Environment read for CUTOVER_GENERATION. Default process.env. */
  env: object<Record<string, string | undefined>>("an object of environment variables").optional(),
  /** Schema holding Cutover's tables. Default `cutover`. */
  schema: z.string().default(DEFAULT_SCHEMA),
  /** Largest serialized payload accepted, in bytes. Default 1 MiB. */
  maxPayloadBytes: int(1, Number.MAX_SAFE_INTEGER).default(DEFAULT_MAX_PAYLOAD_BYTES),
  /**
   * Send the NOTIFY wake-up hint with every publish (default true). With
   * `false` nothing is notified: consumers find the events by polling (set
   * their `pollIntervalMs` to the latency you accept). For very high
   * single-event publish rates: notifying transactions commit one at a time
   * (Postgres holds the notification queue lock through the commit), so they
   * lose group commit.
   */
  notify: z.boolean().default(true),
  /**
   * On a node-postgres client, send the insert as a named prepared statement,
   * parsed and planned once per connection (default true). Other handles
   * (kysely, pg look-alikes) always get an unnamed statement. Set false when your connections go
   * through PgBouncer in transaction mode older than 1.21.
   */
  preparedStatements: z.boolean().default(true),
});

/** The options of createPublisher; `events` typed by its catalog. */
export type PublisherOptions<S extends EventSchemas> = Omit<
  z.input<typeof publisherOptionsSchema>,
  "events"
> & {
  events: EventCatalog<S>;
};

export interface Publisher<S extends EventSchemas> {
  readonly generation: number;
  readonly schema: string;
  /**
   * Validates `payload` against the topic's schema and writes one outbox row
   * stamped with this publisher's generation, plus one NOTIFY hint, in one
   * statement on `tx`: the event commits or rolls back with the caller's
   * transaction. An unknown topic, invalid payload or bad option throws a
   * typed CutoverError before anything is sent to the database.
   *
   * @param tx the caller's transaction: a pg Client/PoolClient inside
   *   BEGIN ... COMMIT, or a kysely Transaction.
   */
  publish<T extends keyof S & string>(
    tx: DbHandle,
    topic: T,
    payload: PayloadIn<S, T>,
    options?: PublishOptions,
  ): Promise<PublishResult>;
  /**
   * Like publish for many events in one statement and one NOTIFY. All items are
   * validated first; if any is invalid nothing is written.
   */
  publishBatch(tx: DbHandle, items: ReadonlyArray<BatchItem<S>>): Promise<PublishResult[]>;
}

const KEY_MAX = 200;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Validates idempotencyKey, orderingKey and tenant: bounded, non-empty, well-formed text. */
function checkKey(value: unknown, option: string, topic: string, index: number | undefined): void {
  if (value === undefined) return;
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    value.length > KEY_MAX ||
    LONE_SURROGATE.test(value)
  ) {
    throw new CutoverError(
      "PUBLISH_OPTIONS_INVALID",
      `${option} for topic "${topic}"${index === undefined ? "" : ` (batch item ${index})`} must be a non-empty string of at most ${KEY_MAX} characters`,
      { details: { option, topic, index } },
    );
  }
  if (value.includes("\u0000")) {
    throw new CutoverError(
      "PUBLISH_OPTIONS_INVALID",
      `${option} for topic "${topic}" contains a NUL character`,
      {
        details: { option, topic, index },
      },
    );
  }
}

function checkHeaders(headers: unknown, topic: string, index: number | undefined): void {
  if (headers === undefined) return;
  const bad =
    headers === null ||
    typeof headers !== "object" ||
    Array.isArray(headers) ||
    Object.values(headers as object).some((v) => typeof v !== "string");
  if (bad) {
    throw new CutoverError(
      "PUBLISH_OPTIONS_INVALID",
      `headers for topic "${topic}"${index === undefined ? "" : ` (batch item ${index})`} must be an object of string values`,
      { details: { option: "headers", topic, index } },
    );
  }
}

/**
 * Creates a publisher bound to one generation. Verifies (read-only, once) that
 * the generation was allocated, so a misconfigured deploy fails at start-up.
 */
export async function createPublisher<S extends EventSchemas>(
  opts: PublisherOptions<S>,
): Promise<Publisher<S>> {
  if (opts === null || typeof opts !== "object") {
    throw new CutoverError("CONFIG_INVALID", "createPublisher needs an options object");
  }
  const parsed = publisherOptionsSchema.safeParse(opts);
  if (!parsed.success)
    throw optionError("publisher option", publisherOptionsSchema, opts, parsed.error.issues);
  const { maxPayloadBytes: maxBytes, notify, preparedStatements: prepared } = parsed.data;
  const schemaName = validateSchemaName(parsed.data.schema);
  const { generation } = await resolveGeneration(opts.db, {
    schema: schemaName,
    ...(opts.generation !== undefined ? { generation: opts.generation } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  const events = opts.events;
  /** Topics as JSON strings, filled as published (only declared topics pass events.parse). */
  const topicJson = new Map<string, string>();
  /** Topics whose schema was seen to accept its own stored output (checkStoredForm). */
  const stable = new Set<string>();
  const channel = channelFor(schemaName, generation);
  const schema = quoteIdent(schemaName);
  // Returns the inserted rows' (id, key); a duplicate is one not returned.
  // Only when one call repeats a key (across topics, or twice) the topic is
  // returned too, to tell the rows apart: less to send and decode per row.
  // `tenant` is named only when some item has one, so an application that
  // does not use it keeps publishing against a schema that predates
  // migration 1732000000006 (deploy order need not be migrate-first for it).
  const insertSql = (withTopic: boolean, withTenant: boolean) => `WITH ins AS (
  INSERT INTO ${schema}.outbox (generation, topic, payload, headers, idempotency_key, ordering_key, available_at${withTenant ? ", tenant" : ""})
  SELECT $1, t.topic, t.payload, coalesce(t.headers, '{}'), t.key, t.okey, coalesce(t.at, now())${withTenant ? ", t.tenant" : ""}
  FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (topic text, payload jsonb, headers jsonb, key text, okey text, at timestamptz${withTenant ? ", tenant text" : ""}))
    WITH ORDINALITY AS t(topic, payload, headers, key, okey, at${withTenant ? ", tenant" : ""}, i)
  ORDER BY t.i
  ON CONFLICT (topic, idempotency_key) DO NOTHING
  RETURNING id, ${withTopic ? "topic, " : ""}idempotency_key
), note AS (
  SELECT pg_notify($3, min(id)::text) FROM ins HAVING count(*) > 0 AND $4::boolean
)
SELECT id::text AS id, ${withTopic ? "topic, " : ""}idempotency_key, (SELECT count(*) FROM note) AS notified FROM ins`;
  /** [lean, full] statements, without and with the tenant column. */
  const statements = [false, true].map((withTenant) => ({
    lean: insertSql(false, withTenant),
    full: insertSql(true, withTenant),
  }));
  const statementNames = prepared
    ? new Map(
        statements
          .flatMap((st) => [st.lean, st.full])
          .map((text) => [text, preparedName("cutover_publish", text)]),
      )
    : undefined;

  // The row stores the schema's output as JSON, and a consumer given the
  // catalog parses that again before its handlers run. A schema whose output
  // does not parse back to itself (z.date(), or a transform that changes the
  // value: c => c / 100) would have every such event go dead, or reach
  // handlers transformed twice. Checked on each topic's first publish per
  // publisher (a full check on every publish would double validation cost).
  function checkStoredForm(topic: string, stored: string, index: number | undefined): void {
    const where = `topic "${topic}"${index === undefined ? "" : ` (batch item ${index})`}`;
    const fix =
      "the row stores the schema's output as JSON and consumers parse it again with the catalog, so the schema must accept its own output unchanged (no value-changing .transform(); z.coerce.date() or z.iso.datetime() rather than z.date())";
    let again: string | undefined;
    try {
      again = JSON.stringify(events.parse(topic, JSON.parse(stored)));
    } catch (err) {
      const issue = (err as PayloadValidationError).issues?.[0];
      const why = issue
        ? `${issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)"}: ${issue.message}`
        : err instanceof Error
          ? err.message
          : String(err);
      throw new CutoverError(
        "PAYLOAD_INVALID",
        `the schema of ${where} rejects its own stored output (${why}): ${fix}`,
        { cause: err, details: { topic, index } },
      );
    }
    if (again !== stored) {
      throw new CutoverError(
        "PAYLOAD_INVALID",
        `the schema of ${where} changes its own stored output when it parses it again: handlers would get the payload transformed twice; ${fix}`,
        { details: { topic, index } },
      );
    }
  }

  // Builds the one JSON document the statement reads; every piece is
  // validated and serialized here so the database never sees bad input.
  // Absent options are left out (the statement reads them as NULL; headers
  // default to {}), and the rows are numbered by WITH ORDINALITY, not by a
  // field: Postgres parses the whole document, so each byte saved is parse
  // work saved (PROFILE.md, "Publish").
  function encode(
    items: ReadonlyArray<{ topic: string; payload: unknown } & PublishOptions>,
    batch: boolean,
    trace: Readonly<Record<string, string>>,
  ): { json: string; keys: string[] } {
    const traced = Object.keys(trace).length > 0;
    const parts: string[] = [];
    const keys: string[] = [];
    items.forEach((item, n) => {
      const index = batch ? n : undefined;
      if (item === null || typeof item !== "object") {
        throw new CutoverError("PUBLISH_OPTIONS_INVALID", `batch item ${n} must be an object`);
      }
      const value = events.parse(item.topic, item.payload, index);
      checkKey(item.idempotencyKey, "idempotencyKey", item.topic, index);
      checkKey(item.orderingKey, "orderingKey", item.topic, index);
      checkKey(item.tenant, "tenant", item.topic, index);
      checkHeaders(item.headers, item.topic, index);
      if (
        item.availableAt !== undefined &&
        !(item.availableAt instanceof Date && !Number.isNaN(item.availableAt.getTime()))
      ) {
        throw new CutoverError(
          "PUBLISH_OPTIONS_INVALID",
          `availableAt for topic "${item.topic}" must be a valid Date`,
          {
            details: { option: "availableAt", topic: item.topic, index },
          },
        );
      }
      const payload = serializeJson(value, { topic: item.topic, field: "payload", index, maxBytes });
      if (!stable.has(item.topic)) {
        checkStoredForm(item.topic, payload, index);
        stable.add(item.topic);
      }
      // The caller's own headers win over the injected trace context (an
      // event forwarded from elsewhere keeps the trace it came with).
      const given = traced ? { ...trace, ...item.headers } : item.headers;
      const headers = given
        ? `,"headers":${serializeJson(given, { topic: item.topic, field: "headers", index, maxBytes })}`
        : "";
      let topic = topicJson.get(item.topic);
      if (topic === undefined) {
        topic = JSON.stringify(item.topic);
        topicJson.set(item.topic, topic);
      }
      const explicitKey = item.idempotencyKey;
      const key = explicitKey ?? uuidv7();
      keys.push(key);
      parts.push(
        // A generated key is hex and dashes: no escaping needed.
        `{"topic":${topic},"payload":${payload}${headers},"key":${explicitKey === undefined ? `"${key}"` : JSON.stringify(key)}${
          item.orderingKey === undefined ? "" : `,"okey":${JSON.stringify(item.orderingKey)}`
        }${item.availableAt ? `,"at":"${item.availableAt.toISOString()}"` : ""}${
          item.tenant === undefined ? "" : `,"tenant":${JSON.stringify(item.tenant)}`
        }}`,
      );
    });
    return { json: `[${parts.join(",")}]`, keys };
  }

  async function write(
    tx: DbHandle,
    items: ReadonlyArray<{ topic: string; payload: unknown } & PublishOptions>,
    batch: boolean,
  ): Promise<PublishResult[]> {
    const q = toQueryable(tx, batch ? "publishBatch" : "publish", {
      requireTransaction: true,
      ...(statementNames ? { statementNames } : {}),
    });
    if (items.length === 0) return [];
    const span = startPublishSpan({
      topics: items.map((i) => String((i as { topic?: unknown } | null)?.topic)),
      batch,
      generation,
      tenant: !batch && typeof items[0]?.tenant === "string" ? items[0].tenant : undefined,
    });
    try {
      const results = await insert(q, items, batch, span.carrier);
      span.end({ ids: results.map((r) => r.id) });
      return results;
    } catch (err) {
      const error =
        sqlStateOf(err) === SqlState.undefinedColumn && items.some((i) => i.tenant !== undefined)
          ? new CutoverError(
              "SCHEMA_BEHIND",
              `the tenant option needs the outbox.tenant column of migration 1732000000006_outbox_tenant, which schema "${schemaName}" lacks: run migrate({ schema: "${schemaName}" }) or \`outbox-worker migrate\` first`,
              { cause: err, details: { schema: schemaName, option: "tenant" } },
            )
          : err;
      span.end({ error });
      throw error;
    }
  }

  async function insert(
    q: ReturnType<typeof toQueryable>,
    items: ReadonlyArray<{ topic: string; payload: unknown } & PublishOptions>,
    batch: boolean,
    trace: Readonly<Record<string, string>>,
  ): Promise<PublishResult[]> {
    const { json, keys } = encode(items, batch, trace);
    const tenanted = items.some((i) => i.tenant !== undefined);
    const { lean: leanSql, full: fullSql } = statements[tenanted ? 1 : 0]!;
    if (new Set(keys).size === keys.length) {
      // Every key once: the key alone names the row.
      const { rows } = await q.query<{ id: string; idempotency_key: string }>(leanSql, [
        generation,
        json,
        channel,
        notify,
      ]);
      const inserted = new Map<string, string>();
      for (const r of rows) inserted.set(r.idempotency_key, r.id);
      return keys.map((key) => {
        const id = inserted.get(key);
        return { id, idempotencyKey: key, duplicate: id === undefined };
      });
    }
    const { rows } = await q.query<{ id: string; topic: string; idempotency_key: string }>(fullSql, [
      generation,
      json,
      channel,
      notify,
    ]);
    const inserted = new Map<string, string>();
    for (const r of rows) inserted.set(`${r.topic}\u0000${r.idempotency_key}`, r.id);
    const seen = new Set<string>();
    return items.map((item, n) => {
      const k = `${item.topic}\u0000${keys[n]}`;
      const id = seen.has(k) ? undefined : inserted.get(k);
      seen.add(k);
      return { id, idempotencyKey: keys[n]!, duplicate: id === undefined };
    });
  }

  return {
    generation,
    schema: schemaName,
    async publish(tx, topic, payload, options = {}) {
      const [result] = await write(tx, [{ ...options, topic, payload }], false);
      return result!;
    },
    async publishBatch(tx, items) {
      if (!Array.isArray(items))
        throw new CutoverError("PUBLISH_OPTIONS_INVALID", "publishBatch takes an array of events");
      return write(tx, items as ReadonlyArray<{ topic: string; payload: unknown } & PublishOptions>, true);
    },
  };
}
