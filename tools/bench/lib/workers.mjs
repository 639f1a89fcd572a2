// Worker child processes (worker.mjs) and their IPC, shared by run.mjs and
// profile.mjs.
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const WORKER_PATH = join(here, "..", "worker.mjs");

/**
 * The V8 flags the outbox-worker image runs with (NODE_OPTIONS in the
 * Dockerfile), read from the Dockerfile so the figure is the shipped
 * worker's and cannot drift from it. Peers run with Node's defaults.
 */
let nodeOptions;
export function imageNodeOptions() {
  if (!nodeOptions) {
    const m = /NODE_OPTIONS="([^"]*)"/.exec(readFileSync(join(here, "..", "..", "..", "Dockerfile"), "utf8"));
    nodeOptions = m ? m[1].split(/\s+/).filter(Boolean) : [];
  }
  return nodeOptions;
}

function spawnWorker(system, url, config, tuning, mode, onEvent, log) {
  const label = system;
  const child = fork(WORKER_PATH, [JSON.stringify({ system, url, config, tuning, mode })], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    execArgv: system === "cutover" ? [...process.execArgv, ...imageNodeOptions()] : process.execArgv,
  });
  const state = { handled: 0, first: undefined, last: undefined, error: undefined, exited: false };
  const waiters = [];
  const settleWaiters = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (state.error || state.exited || w.msg) {
        waiters.splice(i, 1);
        clearTimeout(w.timer);
        if (w.msg) w.resolve(w.msg);
        else w.reject(new Error(`${label} worker: ${state.error ?? "exited"}`));
      }
    }
  };
  child.on("message", (m) => {
    if (m.type === "progress") {
      state.handled = m.handled;
      state.first = m.first;
      state.last = m.last;
      if (m.trace) onEvent?.(m.trace);
    } else if (m.type === "handled") {
      onEvent?.([m.seq, m.t]);
    } else if (m.type === "error") {
      state.error = m.message;
      log(`worker error (${label}): ${m.message}`);
    }
    for (const w of waiters) if (w.type === m.type) w.msg = m;
    settleWaiters();
  });
  child.on("exit", () => {
    state.exited = true;
    settleWaiters();
  });
  const waitFor = (type, timeoutMs) =>
    new Promise((resolve, reject) => {
      const w = { type, resolve, reject, msg: undefined };
      w.timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`${label} worker: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push(w);
      settleWaiters();
    });
  return {
    child,
    state,
    waitFor,
    send: (m) => child.send(m),
    async stop() {
      let stopped;
      if (!state.exited && child.connected) {
        const p = waitFor("stopped", 30_000);
        child.send({ type: "stop" });
        stopped = await p.catch((err) => {
          log(String(err.message));
          return undefined;
        });
      }
      if (!state.exited) {
        const exited = new Promise((r) => child.once("exit", r));
        const t = setTimeout(() => {
          log(`${label} worker did not exit after stop: killing it`);
          child.kill("SIGKILL");
        }, 5_000);
        await exited;
        clearTimeout(t);
      }
      return stopped ?? {};
    },
  };
}

/**
 * Forks `n` worker processes (worker.mjs) of `system`, waits until each is
 * ready, then starts them together; resolves once all have started.
 */
export async function startWorkers(system, url, config, tuning, n, mode, onEvent, log = () => {}) {
  const workers = Array.from({ length: n }, () =>
    spawnWorker(system, url, config, tuning, mode, onEvent, log),
  );
  try {
    await Promise.all(workers.map((w) => w.waitFor("ready", 30_000)));
    const started = workers.map((w) => w.waitFor("started", 30_000));
    for (const w of workers) w.send({ type: "go" });
    await Promise.all(started);
  } catch (err) {
    await Promise.all(workers.map((w) => w.stop()));
    throw err;
  }
  return workers;
}
