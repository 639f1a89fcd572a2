import type { HandlerDefinition } from "@cutover/outbox";
import type { WorkerLogger } from "./logging.js";
import { passwordOf, registerSecret } from "./redact.js";
import { createRelays, loadRelaysConfig, type Relay, type RelaysConfig } from "./relays/index.js";

export type { Relay };

/** Registers every secret a relay config resolved (webhook secret, broker passwords, URLs with credentials). */
function registerRelaySecrets(config: RelaysConfig): void {
  for (const c of config) {
    const r = c as unknown as Record<string, unknown>;
    for (const key of ["secret", "password", "token"]) {
      if (typeof r[key] === "string") registerSecret(r[key]);
    }
    if (typeof r.url === "string") registerSecret(passwordOf(r.url));
  }
}

/**
 * The relays configured by OUTBOX_RELAYS (none when unset). Nothing connects
 * here; relays connect on first use. Throws CONFIG_INVALID naming the variable.
 */
export function loadRelays(env: Record<string, string | undefined>, logger: WorkerLogger): Relay[] {
  const config = loadRelaysConfig(env);
  registerRelaySecrets(config);
  return createRelays(config, { logger: logger.child({ component: "relay" }) });
}

export function relayHandlers(relays: readonly Relay[]): HandlerDefinition[] {
  return relays.map((r) => r.handler as HandlerDefinition);
}

/** Closes every relay; never throws (a failure is logged). */
export async function closeRelays(relays: readonly Relay[], logger: WorkerLogger): Promise<void> {
  await Promise.all(
    relays.map((r) =>
      r
        .close()
        .catch((err: unknown) =>
          logger.warn(
            { relay: r.name, err: err instanceof Error ? err.message : String(err) },
            "relay close failed",
          ),
        ),
    ),
  );
}
