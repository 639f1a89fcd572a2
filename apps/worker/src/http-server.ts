import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface HttpRoutes {
  /** Liveness: 200 unless the worker is beyond repair (then 503); body always JSON. */
  health(): { status: number; body: unknown };
  /** Readiness: 200 when serving; 503 with the reason otherwise. */
  ready(): { status: number; body: unknown };
  metrics(): Promise<{ contentType: string; body: string }>;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  res.end(body);
}

/**
 * GET /health, /ready, /metrics on host:port. close() stops accepting,
 * ends idle keep-alive connections and resolves once the server is closed.
 */
export async function startHttpServer(
  routes: HttpRoutes,
  opts: { port: number; host: string },
): Promise<HttpServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "application/json", JSON.stringify({ error: "method not allowed" }));
      return;
    }
    try {
      if (path === "/health" || path === "/healthz") {
        const r = routes.health();
        send(res, r.status, "application/json", JSON.stringify(r.body));
      } else if (path === "/ready" || path === "/readyz") {
        const r = routes.ready();
        send(res, r.status, "application/json", JSON.stringify(r.body));
      } else if (path === "/metrics") {
        const m = await routes.metrics();
        send(res, 200, m.contentType, m.body);
      } else {
        send(
          res,
          404,
          "application/json",
          JSON.stringify({ error: "not found", routes: ["/health", "/ready", "/metrics"] }),
        );
      }
    } catch (err) {
      send(
        res,
        500,
        "application/json",
        JSON.stringify({ error: err instanceof Error ? err.message : String(err) }),
      );
    }
  };
  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
