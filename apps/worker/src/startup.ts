/**
 * Waiting for the database at start-up. A worker is often started before its
 * database answers (a fresh cluster, a failover, DNS not yet published): those
 * failures heal by waiting, so they are retried with exponential backoff and
 * jitter until a start-up deadline, one log line per attempt naming the cause.
 * Failures that waiting cannot heal (wrong password, missing database, a URL
 * the driver cannot parse) end the process at once with a distinct exit code,
 * so an orchestrator's restart loop never hides the cause.
 */
import { sqlStateOf } from "@cutover/outbox/internal";
import pg from "pg";
import { redactText, redactUrl } from "./redact.js";

/** Exit codes of the start-up phase (0, 1, 2 and 130 keep their meaning). */
export const EXIT_DATABASE_REJECTED = 3;
export const EXIT_DATABASE_UNAVAILABLE = 4;

export const STARTUP_BACKOFF = { initialMs: 500, maxMs: 15_000 } as const;

export type ConnectFailureKind = "transient" | "fatal";

export interface ConnectFailure {
  kind: ConnectFailureKind;
  /** SQLSTATE or Node error code, when the error carries one. */
  code: string | undefined;
  /** One line naming the problem, secrets redacted. */
  cause: string;
}

const TRANSIENT_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  // DNS: the name may be published later (a service being created).
  "ENOTFOUND",
  "EAI_AGAIN",
]);

const FATAL_STATES: Record<string, string> = {
  "28P01": "authentication failed",
  "28000": "authentication failed (the role or pg_hba.conf rejected the login)",
  "3D000": "database does not exist",
};

function oneLine(text: string): string {
  return redactText(text.split("\n")[0] ?? "").trim();
}

/**
 * Sorts a connection failure into "retry" or "give up now". Transient: socket
 * errors (refused, reset, timed out, unreachable, DNS not found), SQLSTATE
 * classes 08 (connection exception) and 57P0x (shutting down, starting up),
 * 53300 (too many connections), pg's own connect timeouts and dropped
 * connections. Fatal: authentication (28P01, 28000), missing database (3D000),
 * an unparsable URL, and anything else not known to heal by waiting.
 */
export function classifyConnectError(err: unknown): ConnectFailure {
  const message = err instanceof Error ? err.message : String(err);
  const state = sqlStateOf(err);
  const rawCode = (err as { code?: unknown } | null)?.code;
  const code = state ?? (typeof rawCode === "string" ? rawCode : undefined);
  if (state !== undefined) {
    const fatal = FATAL_STATES[state];
    if (fatal !== undefined)
      return { kind: "fatal", code, cause: `${fatal}: ${oneLine(message)} (SQLSTATE ${state})` };
    const transient = state.startsWith("08") || state.startsWith("57P") || state === "53300";
    return {
      kind: transient ? "transient" : "fatal",
      code,
      cause: `${oneLine(message)} (SQLSTATE ${state})`,
    };
  }
  if (code !== undefined && TRANSIENT_NODE_CODES.has(code)) {
    return { kind: "transient", code, cause: oneLine(message) || code };
  }
  if (code === "ERR_INVALID_URL" || err instanceof TypeError || err instanceof URIError) {
    return { kind: "fatal", code, cause: `invalid DATABASE_URL: ${oneLine(message)}` };
  }
  if (/timeout/i.test(message)) {
    return {
      kind: "transient",
      code,
      cause: `connect timed out, the server did not answer (${oneLine(message)})`,
    };
  }
  if (/Connection terminated|connection.*(closed|ended)|ECONNRESET/i.test(message)) {
    return { kind: "transient", code, cause: oneLine(message) };
  }
  return { kind: "fatal", code, cause: oneLine(message) || "unknown connection error" };
}

/**
 * A start-up failure of the worker with a stable `code` (the library's
 * CutoverErrorCode union is the library's own; these are the worker's).
 */
export class StartupError extends Error {
  readonly code: "DATABASE_REJECTED" | "DATABASE_UNAVAILABLE";
  readonly exitCode: number;
  /** SQLSTATE or Node error code of the last connection failure. */
  readonly causeCode: string | undefined;
  constructor(code: StartupError["code"], exitCode: number, message: string, causeCode: string | undefined) {
    super(message);
    this.name = "StartupError";
    this.code = code;
    this.exitCode = exitCode;
    this.causeCode = causeCode;
  }
}

/** The database refused us for a reason waiting cannot fix (exit {@link EXIT_DATABASE_REJECTED}). */
export class DatabaseRejectedError extends StartupError {
  constructor(url: string, failure: ConnectFailure) {
    super(
      "DATABASE_REJECTED",
      EXIT_DATABASE_REJECTED,
      `DATABASE_REJECTED: cannot connect to ${redactUrl(url)}: ${failure.cause}; not retrying`,
      failure.code,
    );
    this.name = "DatabaseRejectedError";
  }
}

/** The database did not answer before the start-up deadline (exit {@link EXIT_DATABASE_UNAVAILABLE}). */
export class DatabaseUnavailableError extends StartupError {
  constructor(url: string, failure: ConnectFailure, attempts: number, waitedMs: number) {
    super(
      "DATABASE_UNAVAILABLE",
      EXIT_DATABASE_UNAVAILABLE,
      `DATABASE_UNAVAILABLE: database ${redactUrl(url)} not reachable after ${attempts} attempt(s) in ${waitedMs} ms (OUTBOX_STARTUP_TIMEOUT_MS): ${failure.cause}`,
      failure.code,
    );
    this.name = "DatabaseUnavailableError";
  }
}

/** The exit code an error of the start-up phase asks for, or undefined for the generic 1. */
export function startupExitCode(err: unknown): number | undefined {
  if (err instanceof StartupError) return err.exitCode;
  return undefined;
}

/** Delay before retry number `attempt` (1-based): 0.5 s doubling to 15 s, "equal jitter" (half fixed, half random). */
export function startupDelayMs(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(STARTUP_BACKOFF.maxMs, STARTUP_BACKOFF.initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}

export interface StartupState {
  /** True once an attempt succeeded. */
  connected?: boolean;
  attempt: number;
  lastError: string | undefined;
  nextDelayMs: number | undefined;
}

export interface WaitOptions {
  databaseUrl: string;
  /** Total time allowed for the database to answer; 0 = one attempt, fail at once. */
  timeoutMs: number;
  /** Resolves when the process should stop: the wait ends with "stopped". */
  stopSignal: Promise<unknown>;
  /** Called before each retry, with the failure and the delay chosen. */
  onRetry(info: { attempt: number; failure: ConnectFailure; nextDelayMs: number; elapsedMs: number }): void;
  /** Live view for /health. */
  state?: StartupState;
}

const PROBE_CONNECT_TIMEOUT_MS = 10_000;
const MIN_PROBE_CONNECT_TIMEOUT_MS = 1_000;

/**
 * Connects once with its own short-lived client (no transaction; `SELECT 1`
 * only) and disconnects. Rejects with the driver's error.
 */
async function probe(
  url: string,
  connectTimeoutMs: number,
  stopped: Promise<unknown>,
): Promise<"ok" | "stopped"> {
  const client = new pg.Client({
    connectionString: url,
    application_name: "outbox-worker-startup",
    connectionTimeoutMillis: Math.max(1, connectTimeoutMs),
  });
  client.on("error", () => {});
  let stop = false;
  const onStop = stopped.then(() => {
    stop = true;
    return "stopped" as const;
  });
  try {
    const r = await Promise.race([
      (async () => {
        await client.connect();
        await client.query("SELECT 1");
        return "ok" as const;
      })(),
      onStop,
    ]);
    return r;
  } catch (err) {
    if (stop) return "stopped";
    throw err;
  } finally {
    // Stopping mid-connect (a stalled server): drop the socket rather than
    // wait for a goodbye the server will never acknowledge.
    if (stop)
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    await client.end().catch(() => {});
  }
}

/**
 * Waits until a connection to `databaseUrl` succeeds (resolves "ready"), the
 * stop signal fires ("stopped"), or throws {@link DatabaseRejectedError} on a
 * failure that cannot heal and {@link DatabaseUnavailableError} once the
 * deadline passes. Leaves no client, timer or listener behind.
 */
export async function waitForDatabase(opts: WaitOptions): Promise<"ready" | "stopped"> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const state = opts.state ?? { attempt: 0, lastError: undefined, nextDelayMs: undefined };
  let stopped = false;
  void opts.stopSignal.then(() => {
    stopped = true;
  });
  for (let attempt = 1; ; attempt++) {
    state.attempt = attempt;
    state.nextDelayMs = undefined;
    const remaining = deadline - Date.now();
    let failure: ConnectFailure;
    try {
      const r = await probe(
        opts.databaseUrl,
        opts.timeoutMs === 0
          ? PROBE_CONNECT_TIMEOUT_MS
          : // At least a second even at the deadline, so the last attempt reports the
            // server's own answer (refused, auth...) rather than a timeout of our making.
            Math.min(PROBE_CONNECT_TIMEOUT_MS, Math.max(remaining, MIN_PROBE_CONNECT_TIMEOUT_MS)),
        opts.stopSignal,
      );
      if (r === "stopped") return "stopped";
      state.lastError = undefined;
      state.connected = true;
      return "ready";
    } catch (err) {
      if (stopped) return "stopped";
      failure = classifyConnectError(err);
    }
    state.lastError = failure.cause;
    if (failure.kind === "fatal") throw new DatabaseRejectedError(opts.databaseUrl, failure);
    const now = Date.now();
    if (now >= deadline) {
      throw new DatabaseUnavailableError(opts.databaseUrl, failure, attempt, now - started);
    }
    const nextDelayMs = Math.min(startupDelayMs(attempt), deadline - now);
    state.nextDelayMs = nextDelayMs;
    opts.onRetry({ attempt, failure, nextDelayMs, elapsedMs: now - started });
    let timer: NodeJS.Timeout | undefined;
    const woke = await Promise.race([
      new Promise<"slept">((resolve) => {
        timer = setTimeout(() => resolve("slept"), nextDelayMs);
      }),
      opts.stopSignal.then(() => "stopped" as const),
    ]);
    clearTimeout(timer);
    if (woke === "stopped" || stopped) return "stopped";
  }
}
