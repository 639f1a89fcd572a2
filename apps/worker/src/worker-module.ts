import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { EventCatalog, HandlerDefinition } from "@cutover/outbox";
import { ConfigError } from "./config.js";

/**
 * What a handler module (OUTBOX_HANDLERS) exports: `handlers`, and
 * optionally the `events` catalog the handlers were typed from (payloads are
 * then re-validated before handlers run, and invalid ones go dead).
 */
export interface WorkerModule {
  handlers: HandlerDefinition[];
  // biome-ignore lint/suspicious/noExplicitAny: any catalog, whatever its schemas
  events?: EventCatalog<any>;
}

/**
 * Typed helper for handler-module authors:
 *
 * ```ts
 * export default defineWorkerModule({ events, handlers: [defineHandler(events, {...})] });
 * ```
 *
 * Named exports `handlers` / `events` work too. Validation happens when the
 * worker loads the module (names, topics, duplicates), so a broken module
 * fails at start-up with an error naming OUTBOX_HANDLERS.
 */
export function defineWorkerModule<M extends WorkerModule>(module: M): M {
  return module;
}

/** Throws ConfigError naming OUTBOX_HANDLERS when nothing is at `path` (a typo); imports nothing. */
export function checkWorkerModulePath(path: string): void {
  if (!existsSync(path)) {
    throw new ConfigError("OUTBOX_HANDLERS", `points to ${path}, which does not exist`);
  }
}

/** Imports the module at `path` and returns its handlers and events. Throws ConfigError naming OUTBOX_HANDLERS. */
export async function loadWorkerModule(path: string): Promise<WorkerModule> {
  checkWorkerModulePath(path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new ConfigError("OUTBOX_HANDLERS", `module ${path} failed to load: ${why}`);
  }
  const candidate = (
    mod.handlers === undefined && typeof mod.default === "object" && mod.default !== null ? mod.default : mod
  ) as Partial<WorkerModule>;
  if (!Array.isArray(candidate.handlers) || candidate.handlers.length === 0) {
    throw new ConfigError(
      "OUTBOX_HANDLERS",
      `module ${path} must export \`handlers\` (a non-empty array of handler definitions), or a default export from defineWorkerModule()`,
    );
  }
  const events = candidate.events;
  if (events !== undefined && (typeof events !== "object" || typeof events.has !== "function")) {
    throw new ConfigError(
      "OUTBOX_HANDLERS",
      `module ${path} exports \`events\` that is not a defineEvents() catalog`,
    );
  }
  return { handlers: candidate.handlers, ...(events ? { events } : {}) };
}
