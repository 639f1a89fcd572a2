/** Help texts, one per command; `outbox-worker <command> --help` prints them. */
import { settingSpec } from "@cutover/outbox/internal";
import { CONSUMER_VARIABLES } from "./config.js";

const CONFIG = `Configuration comes from the environment (docs/worker.md lists every variable):
  DATABASE_URL         postgres://user:password@host:5432/db (required; the password is never printed)
  CUTOVER_SCHEMA       schema holding Cutover's tables (default cutover)`;

/** The consumer's variables, generated from CONSUMER_VARIABLES: each one's option, range and default. */
const TUNING = `Consumer tuning (each variable sets the consumer option named; docs/worker.md says what it does):
${CONSUMER_VARIABLES.map(([name, option]) => {
  const spec = settingSpec(option);
  const accepts =
    spec.kind === "boolean"
      ? "true or false"
      : spec.kind === "choice"
        ? spec.values.join(" or ")
        : `integer ${spec.min}-${spec.max}`;
  return `  ${name.padEnd(30)} ${option}: ${accepts}, default ${spec.default}`;
}).join("\n")}`;

export const HELP: Record<string, string> = {
  main: `outbox-worker — the Cutover consumer as a container, with health, metrics and ops commands

Usage: outbox-worker [command] [flags]

Commands:
  run                          run the worker (default): consumer, relays, /health /ready /metrics
  migrate                      apply pending schema migrations (advisory-locked; safe from many replicas)
  generation allocate --version V
                               allocate the next generation for a deploy; prints only the number
  status [--json] [--max-dead N]
                               per-generation backlog, workers and heartbeats, orphaned generations
  dead list [--json]           list dead events (--tenant T: one tenant's)
  dead retry <id...> | --all   re-queue dead events (in their own generation; --tenant T: one tenant's)
  drain                        process this generation's backlog, exit 0 when empty

Flags: -h, --help (on every command), --version

${CONFIG}

Exit codes: 0 success, 1 failure (schema behind, drain incomplete; ops commands: database unreachable),
2 bad usage or configuration, 3 database refused us for good (authentication, database missing),
4 database still unreachable after OUTBOX_STARTUP_TIMEOUT_MS (run, drain),
5 status is unhealthy (an ORPHANED generation, a STALE worker with open rows in its generation,
dead events over --max-dead),
6 nothing to act on (dead retry: an id that is not dead or does not exist; --generation never
allocated), 130 second stop signal.`,

  run: `Usage: outbox-worker run [--migrate] [--port N] [--generation N] [--handlers PATH] [--schema NAME]

Runs the consumer for CUTOVER_GENERATION with the handlers of OUTBOX_HANDLERS and the relays of
OUTBOX_RELAYS, serves GET /health (liveness), /ready (readiness) and /metrics (Prometheus) on PORT,
and logs one JSON line per event. SIGTERM/SIGINT: stop claiming, finish in-flight events within
OUTBOX_SHUTDOWN_TIMEOUT_MS (then release them), mark the worker exited, exit 0.

  --migrate          migrate first instead of refusing to start when the schema is behind
  --port N           overrides PORT (default 8080; 0 picks a free port, logged as "http listening")
  --generation N     overrides CUTOVER_GENERATION
  --handlers PATH    overrides OUTBOX_HANDLERS
  --schema NAME      overrides CUTOVER_SCHEMA

${CONFIG}
  CUTOVER_GENERATION   the generation this worker serves (required, or CUTOVER_GENERATION_FILE)
  CUTOVER_GENERATION_FILE
                       a file holding it, read when CUTOVER_GENERATION is unset
  OUTBOX_HANDLERS      path of a module exporting \`handlers\` (and optionally \`events\`)
  OUTBOX_RELAYS        relays: inline JSON or the path of a JSON file
  OUTBOX_STARTUP_TIMEOUT_MS
                       how long to retry an unreachable database at start (default 60000; 0 = no retry)
  OUTBOX_RETIRE_WHEN_SUPERSEDED
                       true: exit 0 once a newer generation is live and this one is drained with no
                       publishers left; a signal before that exits 143 (one Job per generation,
                       docs/kubernetes.md; default false; OUTBOX_RETIRE_QUIET_MS, OUTBOX_RETIRE_TIMEOUT_MS)

${TUNING}`,

  migrate: `Usage: outbox-worker migrate [--schema NAME]

Applies pending migrations to the Cutover schema. Callers queue on an advisory lock, so running it
from a Job and from every replica at once is safe. Prints what it applied.

${CONFIG}`,

  generation: `Usage: outbox-worker generation allocate --version V [--schema NAME]

Allocates the next deployment generation for version V (git sha or image tag) in one round trip and
prints only the number, for deploy scripts:

  CUTOVER_GENERATION=$(outbox-worker generation allocate --version "$GIT_SHA")

${CONFIG}`,

  status: `Usage: outbox-worker status [--json] [--max-dead N] [--schema NAME]

Per generation: pending / in-flight / dead / done counts, the oldest pending row's age and live
workers; every worker with its status and heartbeat age. A generation with open rows and no live
worker is flagged ORPHANED: nothing processes it, and no other generation will take it over.

  --json          machine-readable output ({ generations, workers, orphaned, healthy, problems })
  --max-dead N    also unhealthy when more than N events are dead (all generations together)

Exit codes: 0 healthy, 5 unhealthy (an ORPHANED generation, a STALE worker whose generation still
has pending or in-flight rows, or more than --max-dead dead events; the reasons go to stderr, and
to "problems" with --json), 1 could not check (database unreachable, schema behind), 2 bad usage
or configuration.

${CONFIG}
  OUTBOX_STALE_AFTER_MS  a worker not seen for this long is stale (default ${settingSpec("staleAfterMs").default})`,

  dead: `Usage: outbox-worker dead list [--generation N] [--tenant T] [--limit N] [--json]
       outbox-worker dead retry <id...> | --all | --tenant T [--generation N]

list   dead events, oldest first (default limit 100); --tenant T: only tenant T's
retry  re-queue dead events: pending again with attempts reset, in their own generation;
       --tenant T alone re-queues every dead event of tenant T (with ids: only those of T)

Exit codes: 0 done, 6 nothing to act on (retry: an id that is not dead or does not exist, the
others are still re-queued; list or retry: --generation N was never allocated), 1 failure,
2 bad usage or configuration. \`dead retry --all\` with nothing dead exits 0.

${CONFIG}`,

  drain: `Usage: outbox-worker drain [--generation N] [--handlers PATH] [--timeout MS] [--schema NAME]

Runs this generation's handlers until none of its rows is pending or in flight, printing progress to
stderr, then stops and exits 0. Use it as a Job (or CronJob) to empty an old generation before
retiring it. Exits 1 if rows remain after --timeout, or when interrupted.

  --generation N     overrides CUTOVER_GENERATION (the generation to drain)
  --handlers PATH    overrides OUTBOX_HANDLERS (that generation's handler module)
  --timeout MS       give up after MS milliseconds (default: no limit)

${CONFIG}

${TUNING}`,
};
