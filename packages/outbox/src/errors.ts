/**
 * Every error Cutover throws is a {@link CutoverError} with a stable string
 * `code` (safe to switch on across versions) and, where one exists, the
 * original error as `cause`.
 */
export type CutoverErrorCode =
  | "CONFIG_INVALID"
  | "GENERATION_MISSING"
  | "GENERATION_INVALID"
  | "GENERATION_NOT_ALLOCATED"
  | "IDENTIFIER_INVALID"
  | "TOPIC_UNKNOWN"
  | "TOPIC_INVALID"
  | "PAYLOAD_INVALID"
  | "PAYLOAD_NOT_SERIALIZABLE"
  | "PAYLOAD_TOO_LARGE"
  | "PUBLISH_OPTIONS_INVALID"
  | "DB_HANDLE_INVALID"
  | "MIGRATION_FAILED"
  | "SCHEMA_BEHIND"
  | "HANDLER_INVALID"
  | "HANDLER_DUPLICATE"
  | "CONSUMER_STATE"
  | "HANDLER_TX_CLOSED";

export class CutoverError extends Error {
  readonly code: CutoverErrorCode;
  /** Structured detail for programs (e.g. zod issues, the offending variable). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: CutoverErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CutoverError";
    this.code = code;
    this.details = options.details;
  }
}

/** A payload failed its zod schema. `issues` are zod's, untouched. */
export class PayloadValidationError extends CutoverError {
  readonly topic: string;
  readonly issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string }>;

  constructor(
    topic: string,
    issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string }>,
    index?: number,
  ) {
    const where = index === undefined ? "" : ` (batch item ${index})`;
    const first = issues[0];
    const field = first && first.path.length > 0 ? first.path.map(String).join(".") : "(root)";
    super(
      "PAYLOAD_INVALID",
      `invalid payload for topic "${topic}"${where}: ${field}: ${first?.message ?? "invalid"}` +
        (issues.length > 1 ? ` (+${issues.length - 1} more issue${issues.length > 2 ? "s" : ""})` : ""),
      { details: { topic, issues, index } },
    );
    this.name = "PayloadValidationError";
    this.topic = topic;
    this.issues = issues;
  }
}

export function isCutoverError(err: unknown, code?: CutoverErrorCode): err is CutoverError {
  return err instanceof CutoverError && (code === undefined || err.code === code);
}
