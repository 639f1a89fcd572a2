/**
 * A TCP proxy (node:net) between clients and PostgreSQL that the test drives:
 * cut every connection (RST) and refuse new ones for a while, stall (hold the
 * bytes in flight, both ways, without closing anything), slow (delay every
 * chunk), or cut only the connections whose startup packet carries a given
 * application_name prefix (e.g. the LISTEN connections, `cutover-listen:`).
 * A stall given a prefix freezes only the matching connections open now: a
 * partition of those connections, not closed, while new ones flow.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

interface Pair {
  client: Socket;
  upstream: Socket;
  appName: string | undefined;
  /** Bytes held for this connection alone (frozen by a stall with a prefix). */
  held: Array<() => void> | undefined;
}

export interface ChaosProxy {
  readonly port: number;
  /** A copy of `url` pointing at this proxy. */
  url(url: string): string;
  /** Destroys every open connection (and, with refuseMs, every new one for that long). */
  cut(opts?: { refuseMs?: number; appPrefix?: string }): number;
  /**
   * Holds all bytes (existing and new connections) until resume(); with
   * appPrefix, only those of the matching connections open now. Returns how
   * many connections it froze (all open ones without a prefix).
   */
  stall(opts?: { appPrefix?: string }): number;
  /** Delays every chunk in both directions by `ms` (0 to stop). */
  slow(ms: number): void;
  resume(): void;
  /** Open connections, optionally only those whose application_name starts with `appPrefix`. */
  connections(appPrefix?: string): number;
  /** Like connections(), without those frozen by a stall with a prefix. */
  liveConnections(appPrefix?: string): number;
  close(): Promise<void>;
}

// The startup message: int32 length, int32 protocol 196608, then key\0value\0 ... \0.
function appNameOf(buf: Buffer): string | undefined {
  if (buf.length < 8 || buf.readInt32BE(4) !== 196608) return undefined;
  const parts = buf.subarray(8).toString("utf8").split("\u0000");
  const i = parts.indexOf("application_name");
  return i >= 0 ? parts[i + 1] : undefined;
}

export async function startProxy(target: { host?: string; port: number }): Promise<ChaosProxy> {
  const pairs = new Set<Pair>();
  let refuseUntil = 0;
  let stalled = false;
  let delayMs = 0;
  const held: Array<() => void> = [];

  const forward = (from: Socket, to: Socket, pair: Pair, sniff: boolean) => {
    let first = sniff;
    from.on("data", (chunk: Buffer) => {
      if (first) {
        first = false;
        pair.appName ??= appNameOf(chunk);
      }
      const write = () => {
        if (!to.destroyed) to.write(chunk);
      };
      if (pair.held) pair.held.push(write);
      else if (stalled) held.push(write);
      else if (delayMs > 0) setTimeout(() => (stalled ? held.push(write) : write()), delayMs);
      else write();
    });
  };

  const server: Server = createServer((client) => {
    if (Date.now() < refuseUntil) {
      client.resetAndDestroy();
      return;
    }
    const upstream = tcpConnect({ host: target.host ?? "127.0.0.1", port: target.port });
    const pair: Pair = { client, upstream, appName: undefined, held: undefined };
    pairs.add(pair);
    const drop = () => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    forward(client, upstream, pair, true);
    forward(upstream, client, pair, false);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("proxy has no address");
  const port = address.port;

  const matches = (p: Pair, prefix: string | undefined) =>
    prefix === undefined || (p.appName ?? "").startsWith(prefix);

  return {
    port,
    url(url: string) {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    cut(opts = {}) {
      if (opts.refuseMs) refuseUntil = Date.now() + opts.refuseMs;
      let n = 0;
      for (const p of [...pairs]) {
        if (!matches(p, opts.appPrefix)) continue;
        n++;
        pairs.delete(p);
        p.client.resetAndDestroy();
        p.upstream.resetAndDestroy();
      }
      return n;
    },
    stall(opts = {}) {
      if (opts.appPrefix === undefined) {
        stalled = true;
        return pairs.size;
      }
      let n = 0;
      for (const p of pairs) {
        if (!matches(p, opts.appPrefix) || p.held) continue;
        p.held = [];
        n++;
      }
      return n;
    },
    slow(ms: number) {
      delayMs = ms;
    },
    resume() {
      stalled = false;
      delayMs = 0;
      refuseUntil = 0;
      for (const write of held.splice(0)) write();
      for (const p of pairs) {
        const mine = p.held;
        p.held = undefined;
        for (const write of mine ?? []) write();
      }
    },
    connections(appPrefix?: string) {
      return [...pairs].filter((p) => matches(p, appPrefix)).length;
    },
    liveConnections(appPrefix?: string) {
      return [...pairs].filter((p) => matches(p, appPrefix) && !p.held).length;
    },
    async close() {
      held.length = 0;
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
