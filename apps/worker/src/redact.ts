/**
 * Secrets never reach output: every line the worker prints (logs, errors,
 * status) goes through these. The password of DATABASE_URL is the secret
 * the worker always holds; relays may register more.
 */

const registered = new Set<string>();

/** Registers a secret value to be masked in every later {@link redactText} call. */
export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 3) {
    registered.add(secret);
    // A URL-encoded password appears encoded inside URLs and decoded in driver errors.
    try {
      const decoded = decodeURIComponent(secret);
      if (decoded.length >= 3) registered.add(decoded);
    } catch {
      // not %-encoded: nothing more to register
    }
    registered.add(encodeURIComponent(secret));
  }
}

/**
 * `postgres://user:secret@host/db` -> `postgres://user:***@host/db`. Strings
 * that are not URLs are returned with every `scheme://user:password@`
 * credential masked, so a half-valid value cannot leak either.
 */
export function redactUrl(url: string): string {
  if (typeof url !== "string") return "";
  try {
    const u = new URL(url);
    if (u.password) {
      u.password = "***";
      return u.toString();
    }
    return url.replace(CREDENTIALS, "$1***@");
  } catch {
    return url.replace(CREDENTIALS, "$1***@");
  }
}

const CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@\s/]*@/gi;

/** Masks URL credentials and every registered secret in free text. */
export function redactText(text: string): string {
  let out = text.replace(CREDENTIALS, "$1***@");
  for (const s of registered) {
    if (out.includes(s)) out = out.split(s).join("***");
  }
  return out;
}

/** The password part of a connection URL, if any (registered as a secret at start-up). */
export function passwordOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.password ? u.password : undefined;
  } catch {
    const m = /:\/\/[^:/?#@\s]*:([^@\s/]*)@/.exec(url);
    return m?.[1] || undefined;
  }
}
