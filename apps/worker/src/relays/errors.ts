/**
 * Errors a relay throws from its handler. A {@link RelayError} is retryable:
 * the consumer re-pends the event with backoff. Anything that retrying cannot
 * fix is a `PermanentError` (dead at once) instead.
 */
export type RelayErrorCode =
  /** The broker or receiver could not be reached (connection down, reconnecting). */
  | "RELAY_UNAVAILABLE"
  /** The broker or receiver answered with a failure worth retrying (5xx, 408, 429, nack). */
  | "RELAY_REJECTED"
  /** No answer within the configured timeout. */
  | "RELAY_TIMEOUT"
  /** The relay was closed (worker shutting down). */
  | "RELAY_CLOSED";

export class RelayError extends Error {
  readonly code: RelayErrorCode;
  readonly relay: string;

  constructor(code: RelayErrorCode, relay: string, message: string, options: { cause?: unknown } = {}) {
    super(`relay ${relay}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RelayError";
    this.code = code;
    this.relay = relay;
  }
}

/**
 * Removes secrets from a message meant for logs, health or `last_error`:
 * credentials in URLs and every known secret value.
 */
export function redact(message: string, secrets: readonly (string | undefined)[] = []): string {
  let out = message.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*):([^/@\s]*)@/gi, "$1$2:***@");
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join("***");
  return out;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
