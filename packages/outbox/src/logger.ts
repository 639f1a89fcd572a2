/**
 * The logger Cutover writes to: pino's signature (`log(fields, message)`), so a
 * pino logger can be passed as is. The library is silent unless given one.
 */
export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

const noop = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/**
 * A logger that adds `bindings` to every line: the parent's own `child()`
 * when it has one (pino), else a wrapper that merges them in.
 */
export function childLogger(parent: Logger, bindings: Record<string, unknown>): Logger {
  if (parent === silentLogger) return silentLogger;
  const child = (parent as { child?: (b: Record<string, unknown>) => Logger }).child;
  if (typeof child === "function") return child.call(parent, bindings);
  return {
    debug: (obj, msg) => parent.debug({ ...bindings, ...obj }, msg),
    info: (obj, msg) => parent.info({ ...bindings, ...obj }, msg),
    warn: (obj, msg) => parent.warn({ ...bindings, ...obj }, msg),
    error: (obj, msg) => parent.error({ ...bindings, ...obj }, msg),
  };
}
