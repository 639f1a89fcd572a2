import { z } from "zod";
import { arrayElement, nullableArrayLiteral } from "./array-literal.js";
import { type DbHandle, preparedName, toQueryable } from "./db.js";
import { CutoverError, type PayloadValidationError } from "./errors.js";
import type { EventCatalog, EventSchemas, PayloadIn } from "./events.js";
import { resolveGeneration } from "./generation.js";
import { channelFor, DEFAULT_SCHEMA, quoteIdent, validateSchemaName } from "./identifiers.js";
import { int, object, optionError } from "./option-errors.js";
import { DEFAULT_MAX_PAYLOAD_BYTES, serializeJson, serializeJsonArray } from "./payload.js";
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

/** encode()'s output: the statement's parameters $2..$7, $10 (tenants), and each item's key. */
interface Encoded {
  params: [string, string, string | null, string, string | null, string | null];
  tenants: string | null;
  keys: string[];
  /** Every key was generated here. */
  generated: boolean;
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
  /** Topics as array-literal elements, filled as published (only declared topics pass events.parse). */
  const topicElem = new Map<string, string>();
  /** Topics whose schema was seen to accept its own stored output (checkStoredForm). */
  const stable = new Set<string>();
  const channel = channelFor(schemaName, generation);
  const schema = quoteIdent(schemaName);
  // The rows go in as parallel columns zipped by ROWS FROM ... WITH
  // ORDINALITY: the payloads as one JSON array ($3, parsed once into jsonb
  // and split by jsonb_array_elements), every other column as an array
  // literal, or NULL when no item sets it (unnest of NULL gives no values,
  // so ROWS FROM pads it with NULLs). Against one document read by
  // jsonb_to_recordset, Postgres builds no record per row and Node writes
  // no field names (PROFILE.md, "Publish").
  //
  // ORDER BY t.i makes the identity default run in input order, so ids
  // increase in input order. Two shapes:
  // - `generated`: every key was made here (UUIDv7: time + 74 random bits),
  //   so none can already be in the outbox and a plain INSERT suffices: no
  //   speculative insertion (one index probe and one WAL record less per row)
  //   and one row back, the ids in id order = input order.
  // - otherwise ON CONFLICT dedupes by (topic, key) and the inserted rows'
  //   (id, key) come back; a duplicate is one not returned. Only when one call
  //   repeats a key (across topics, or twice) the topic is returned too.
  // `tenant` is named only when some item has one, so an application that
  // does not use it keeps publishing against a schema that predates
  // migration 1732000000006 (deploy order need not be migrate-first for it).
  const insertSql = (shape: "generated" | "lean" | "full", withTenant: boolean) => `WITH ins AS (
  INSERT INTO ${schema}.outbox (generation, topic, payload, headers, idempotency_key, ordering_key, available_at${withTenant ? ", tenant" : ""})
  SELECT $1, t.topic, t.payload, coalesce(t.headers, '{}'), t.key, t.okey, coalesce(t.at, now())${withTenant ? ", t.tenant" : ""}
  FROM ROWS FROM (unnest($2::text[]), jsonb_array_elements($3::jsonb), unnest($4::jsonb[], $5::text[], $6::text[], $7::timestamptz[]${withTenant ? ", $10::text[]" : ""}))
    WITH ORDINALITY AS t(topic, payload, headers, key, okey, at${withTenant ? ", tenant" : ""}, i)
  ORDER BY t.i
${shape === "generated" ? "" : "  ON CONFLICT (topic, idempotency_key) DO NOTHING\n"}  RETURNING id${shape === "generated" ? "" : `, ${shape === "full" ? "topic, " : ""}idempotency_key`}
), note AS (
  SELECT pg_notify($8, min(id)::text) FROM ins HAVING count(*) > 0 AND $9::boolean
)
${
  shape === "generated"
    ? "SELECT string_agg(id::text, ',' ORDER BY id) AS ids, (SELECT count(*) FROM note) AS notified FROM ins"
    : `SELECT id::text AS id, ${shape === "full" ? "topic, " : ""}idempotency_key, (SELECT count(*) FROM note) AS notified FROM ins`
}`;
  /** The statements without and with the tenant column. */
  const statements = [false, true].map((withTenant) => ({
    generated: insertSql("generated", withTenant),
    lean: insertSql("lean", withTenant),
    full: insertSql("full", withTenant),
  }));
  const statementNames = prepared
    ? new Map(
        statements
          .flatMap((st) => [st.generated, st.lean, st.full])
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

  // Builds the statement's column parameters; every piece is validated and
  // serialized here so the database never sees bad input. Absent options are
  // sent as a NULL array (the statement reads them as NULL; headers default
  // to {}), and the rows are numbered by WITH ORDINALITY.
  function encode(
    items: ReadonlyArray<{ topic: string; payload: unknown } & PublishOptions>,
    batch: boolean,
    trace: Readonly<Record<string, string>>,
  ): Encoded {
    const traced = Object.keys(trace).length > 0;
    const n = items.length;
    const topics: string[] = new Array(n);
    /** The schemas' outputs, serialized together after the loop; their topics for errors. */
    const values: unknown[] = new Array(n);
    const names: string[] = new Array(n);
    const keyElems: string[] = new Array(n);
    const keys: string[] = new Array(n);
    let headers: (string | undefined)[] | undefined;
    let okeys: (string | undefined)[] | undefined;
    let ats: (string | undefined)[] | undefined;
    let tenants: (string | undefined)[] | undefined;
    let generated = true;
    for (let i = 0; i < n; i++) {
      const item = items[i]!;
      const index = batch ? i : undefined;
      if (item === null || typeof item !== "object") {
        throw new CutoverError("PUBLISH_OPTIONS_INVALID", `batch item ${i} must be an object`);
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
      if (!stable.has(item.topic)) {
        const payload = serializeJson(value, { topic: item.topic, field: "payload", index, maxBytes });
        checkStoredForm(item.topic, payload, index);
        stable.add(item.topic);
      }
      values[i] = value;
      names[i] = item.topic;
      // The caller's own headers win over the injected trace context (an
      // event forwarded from elsewhere keeps the trace it came with).
      const given = traced ? { ...trace, ...item.headers } : item.headers;
      if (given) {
        headers ??= new Array(n);
        headers[i] = serializeJson(given, { topic: item.topic, field: "headers", index, maxBytes });
      }
      let topic = topicElem.get(item.topic);
      if (topic === undefined) {
        topic = arrayElement(item.topic);
        topicElem.set(item.topic, topic);
      }
      topics[i] = topic;
      const explicitKey = item.idempotencyKey;
      if (explicitKey === undefined) {
        // A generated key is hex and dashes: an array element as it is.
        const key = uuidv7();
        keys[i] = key;
        keyElems[i] = key;
      } else {
        generated = false;
        keys[i] = explicitKey;
        keyElems[i] = arrayElement(explicitKey);
      }
      if (item.orderingKey !== undefined) {
        okeys ??= new Array(n);
        okeys[i] = item.orderingKey;
      }
      if (item.availableAt) {
        ats ??= new Array(n);
        ats[i] = item.availableAt.toISOString();
      }
      if (item.tenant !== undefined) {
        tenants ??= new Array(n);
        tenants[i] = item.tenant;
      }
    }
    return {
      params: [
        `{${topics.join(",")}}`,
        serializeJsonArray(values, names, { batch, maxBytes }),
        nullableArrayLiteral(headers),
        `{${keyElems.join(",")}}`,
        nullableArrayLiteral(okeys),
        // An ISO timestamp needs no quoting either.
        ats ? `{${Array.from(ats, (t) => t ?? "NULL").join(",")}}` : null,
      ],
      tenants: nullableArrayLiteral(tenants),
      keys,
      generated,
    };
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
    const { params, tenants, keys, generated } = encode(items, batch, trace);
    const tenanted = tenants !== null;
    const st = statements[tenanted ? 1 : 0]!;
    const values = [generation, ...params, channel, notify, ...(tenanted ? [tenants] : [])];
    if (generated) {
      // Every key made here: the ids alone, in input order. (A generated key
      // that is somehow already stored fails the statement with the unique
      // violation of outbox_topic_idempotency_key, not a silent duplicate.)
      const { rows } = await q.query<{ ids: string | null }>(st.generated, values);
      const ids = rows[0]?.ids?.split(",") ?? [];
      return keys.map((key, n) => ({ id: ids[n], idempotencyKey: key, duplicate: false }));
    }
    if (new Set(keys).size === keys.length) {
      // Every key once: the key alone names the row.
      const { rows } = await q.query<{ id: string; idempotency_key: string }>(st.lean, values);
      const inserted = new Map<string, string>();
      for (const r of rows) inserted.set(r.idempotency_key, r.id);
      return keys.map((key) => {
        const id = inserted.get(key);
        return { id, idempotencyKey: key, duplicate: id === undefined };
      });
    }
    const { rows } = await q.query<{ id: string; topic: string; idempotency_key: string }>(st.full, values);
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
