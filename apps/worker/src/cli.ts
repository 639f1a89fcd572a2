#!/usr/bin/env node
import { parseArgs } from "node:util";
import { isCutoverError } from "@cutover/outbox";
import type { Io } from "./commands/ops.js";
import { ConfigError, type Env, type LoadOptions, loadConfig, type WorkerConfig } from "./config.js";
import { HELP } from "./help.js";
import { redactText } from "./redact.js";
import { WORKER_VERSION } from "./version.js";

class UsageError extends Error {}

// Commands load on use: `--help` and config errors answer without loading pg, prom-client or broker clients.
const ops = () => import("./commands/ops.js");

const io: Io = {
  out: (t) => process.stdout.write(redactText(t)),
  err: (t) => process.stderr.write(redactText(t)),
};

type Flags = Record<string, string | boolean | undefined>;

function parse(args: string[], options: Record<string, { type: "string" | "boolean" }>, positionals = false) {
  try {
    const r = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: positionals,
      strict: true,
    });
    return { flags: r.values as Flags, positionals: r.positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** Flags override their environment variables, so validation (and its error) names the variable. */
function withFlags(env: Env, flags: Flags, map: Record<string, string>): Env {
  const out = { ...env };
  for (const [flag, variable] of Object.entries(map)) {
    const v = flags[flag];
    if (typeof v === "string") out[variable] = v;
  }
  return out;
}

function config(env: Env, opts: LoadOptions = {}) {
  return loadConfig(env, opts);
}

/** The value of --tenant: undefined when absent; a usage error when empty. */
function tenantFlag(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.trim() === "" || value.length > 200) {
    throw new UsageError("--tenant needs a tenant name (1 to 200 characters)");
  }
  return value;
}

function positiveInt(value: string | boolean | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^[1-9][0-9]{0,9}$/.test(value)) {
    throw new UsageError(`${flag} must be a positive integer; got ${JSON.stringify(String(value))}`);
  }
  return Number(value);
}

function nonNegativeInt(value: string | boolean | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^(0|[1-9][0-9]{0,9})$/.test(value)) {
    throw new UsageError(`${flag} must be a non-negative integer; got ${JSON.stringify(String(value))}`);
  }
  return Number(value);
}

/** One stop signal per process: the first SIGTERM/SIGINT resolves it; a second one exits at once. */
function stopSignal(): { promise: Promise<string>; dispose(): void } {
  let resolve!: (s: string) => void;
  const promise = new Promise<string>((r) => {
    resolve = r;
  });
  let got = false;
  const handler = (signal: NodeJS.Signals) => {
    if (got) {
      process.stderr.write(`outbox-worker: second ${signal}: exiting without a clean stop\n`);
      process.exit(130);
    }
    got = true;
    resolve(signal);
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return {
    promise,
    dispose() {
      process.off("SIGTERM", handler);
      process.off("SIGINT", handler);
    },
  };
}

/**
 * `run` and `drain`: commands that serve one generation's handlers. Both take
 * --generation, --handlers and --schema over their variables (plus their own
 * `options`, of which `variables` maps flags onto variables too), need a
 * generation and handlers, and hold a stop signal while `command` runs.
 */
async function serve(
  topic: "run" | "drain",
  args: string[],
  env: Env,
  options: Record<string, { type: "string" | "boolean" }>,
  variables: Record<string, string>,
  command: (c: WorkerConfig, e: Env, flags: Flags, stop: Promise<string>) => Promise<number>,
): Promise<number> {
  const { flags } = parse(args, {
    ...options,
    generation: { type: "string" },
    handlers: { type: "string" },
    schema: { type: "string" },
  });
  if (flags.help) return help(topic);
  const e = withFlags(env, flags, {
    ...variables,
    generation: "CUTOVER_GENERATION",
    handlers: "OUTBOX_HANDLERS",
    schema: "CUTOVER_SCHEMA",
  });
  const c = config(e, { needGeneration: true, needHandlers: true });
  const stop = stopSignal();
  try {
    return await command(c, e, flags, stop.promise);
  } finally {
    stop.dispose();
  }
}

async function main(argv: string[], env: Env): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--version" || first === "-v") {
    io.out(`${WORKER_VERSION}\n`);
    return 0;
  }
  if (first === "help" || first === "--help" || first === "-h") {
    const topic = rest[0] && HELP[rest[0]] ? rest[0] : "main";
    io.out(`${HELP[topic]}\n`);
    return 0;
  }
  const command = first === undefined || first.startsWith("-") ? "run" : first;
  const args = first === undefined || first.startsWith("-") ? argv : rest;
  switch (command) {
    case "run":
      return serve(
        "run",
        args,
        env,
        { migrate: { type: "boolean" }, port: { type: "string" } },
        { port: "PORT" },
        async (c, e, flags, stop) => {
          const { runCommand } = await import("./commands/run.js");
          return runCommand(c, { migrate: flags.migrate === true, env: e, stopSignal: stop });
        },
      );
    case "migrate": {
      const { flags } = parse(args, { schema: { type: "string" } });
      if (flags.help) return help("migrate");
      return (await ops()).migrateCommand(config(withFlags(env, flags, { schema: "CUTOVER_SCHEMA" })), io);
    }
    case "generation": {
      const [sub, ...subArgs] = args;
      if (sub === undefined || sub === "--help" || sub === "-h") return help("generation");
      if (sub !== "allocate")
        throw new UsageError(`unknown subcommand "generation ${sub}"; try "generation allocate"`);
      const { flags } = parse(subArgs, { version: { type: "string" }, schema: { type: "string" } });
      if (flags.help) return help("generation");
      if (typeof flags.version !== "string" || flags.version.trim() === "") {
        throw new UsageError("generation allocate needs --version V (git sha or image tag)");
      }
      return (await ops()).allocateCommand(
        config(withFlags(env, flags, { schema: "CUTOVER_SCHEMA" })),
        flags.version,
        io,
      );
    }
    case "status": {
      const { flags } = parse(args, {
        json: { type: "boolean" },
        "max-dead": { type: "string" },
        schema: { type: "string" },
      });
      if (flags.help) return help("status");
      const maxDead = nonNegativeInt(flags["max-dead"], "--max-dead");
      return (await ops()).statusCommand(
        config(withFlags(env, flags, { schema: "CUTOVER_SCHEMA" })),
        { json: flags.json === true, maxDead },
        io,
      );
    }
    case "dead": {
      const [sub, ...subArgs] = args;
      if (sub === undefined || sub === "--help" || sub === "-h") return help("dead");
      if (sub === "list") {
        const { flags } = parse(subArgs, {
          generation: { type: "string" },
          limit: { type: "string" },
          json: { type: "boolean" },
          schema: { type: "string" },
          tenant: { type: "string" },
        });
        if (flags.help) return help("dead");
        const limit = positiveInt(flags.limit, "--limit") ?? 100;
        return (await ops()).deadListCommand(
          config(withFlags(env, flags, { schema: "CUTOVER_SCHEMA" })),
          {
            generation: positiveInt(flags.generation, "--generation"),
            tenant: tenantFlag(flags.tenant),
            limit,
            json: flags.json === true,
          },
          io,
        );
      }
      if (sub === "retry") {
        const { flags, positionals } = parse(
          subArgs,
          {
            all: { type: "boolean" },
            generation: { type: "string" },
            schema: { type: "string" },
            tenant: { type: "string" },
          },
          true,
        );
        if (flags.help) return help("dead");
        const tenant = tenantFlag(flags.tenant);
        // --tenant alone selects every dead event of that tenant; with ids it narrows them.
        if (positionals.length > 0 && flags.all === true) {
          throw new UsageError("dead retry needs event ids or --all (not both)");
        }
        if (positionals.length === 0 && flags.all !== true && tenant === undefined) {
          throw new UsageError("dead retry needs event ids or --all (or --tenant T)");
        }
        const bad = positionals.find((id) => !/^[1-9][0-9]{0,18}$/.test(id));
        if (bad !== undefined)
          throw new UsageError(`"${bad}" is not an outbox event id (a positive integer)`);
        return (await ops()).deadRetryCommand(
          config(withFlags(env, flags, { schema: "CUTOVER_SCHEMA" })),
          {
            ids: positionals,
            all: positionals.length === 0,
            generation: positiveInt(flags.generation, "--generation"),
            tenant,
          },
          io,
        );
      }
      throw new UsageError(`unknown subcommand "dead ${sub}"; try "dead list" or "dead retry"`);
    }
    case "drain":
      return serve("drain", args, env, { timeout: { type: "string" } }, {}, async (c, e, flags, stop) => {
        const { drainCommand } = await import("./commands/drain.js");
        return drainCommand(
          c,
          { env: e, timeoutMs: positiveInt(flags.timeout, "--timeout"), progressMs: 1000, stopSignal: stop },
          io,
        );
      });
    default:
      throw new UsageError(`unknown command "${command}"; run \`outbox-worker --help\``);
  }
}

function help(topic: string): number {
  io.out(`${HELP[topic]}\n`);
  return 0;
}

main(process.argv.slice(2), process.env).then(
  (code) => finish(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      io.err(`outbox-worker: ${err.message}\n`);
      return finish(2);
    }
    if (err instanceof ConfigError || isCutoverError(err, "CONFIG_INVALID")) {
      io.err(`outbox-worker: config error: ${(err as Error).message.split("\n")[0]}\n`);
      return finish(2);
    }
    const code = isCutoverError(err) ? `${err.code}: ` : "";
    io.err(`outbox-worker: ${code}${err instanceof Error ? err.message.split("\n")[0] : String(err)}\n`);
    return finish(1);
  },
);

/**
 * Lets the event loop end by itself, proving every component closed what it
 * opened; if something still holds it after 5 s, says so and exits anyway.
 */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => {
    process.stderr.write("outbox-worker: handles still open 5 s after the command finished; exiting\n");
    process.exit(code);
  }, 5_000).unref();
}
