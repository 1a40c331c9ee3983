/**
 * The operations endpoints, on `HTTP_HOST:HTTP_PORT` (127.0.0.1 unless told otherwise; no server
 * at all when `HTTP_PORT` is unset):
 *
 * - `GET /healthz`: 200 while the process is up (a liveness probe).
 * - `GET /readyz`: 200 when the gateway is connected and the store is open, else 503; the body
 *   names each check, so a failing probe says why.
 * - `GET /metrics`: Prometheus text format.
 * - `GET /`: the status page.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";

/** One readiness check's outcome. */
export type Checks = Record<string, boolean>;

/** What the endpoints read. */
export interface OpsHandlers {
  /** Each readiness check; all must hold for `/readyz` to answer 200. */
  readiness(): Checks;
  /** The Prometheus exposition and its content type. */
  metrics(): Promise<{ text: string; contentType: string }>;
  /** The status page's HTML. */
  statusPage(): string;
  /** Told when a handler throws; the client gets a 500. */
  onError?(error: unknown): void;
}

/**
 * Builds the request handler, apart from the server so tests can call it directly.
 *
 * @example
 * ```ts ignore
 * const handler = opsHandler({ readiness: () => ({ gateway: true }), metrics, statusPage });
 * const response = await handler(new Request("http://localhost/healthz"));
 * ```
 */
export function opsHandler(handlers: OpsHandlers): (request: Request) => Promise<Response> {
  return async (request) => {
    const { pathname } = new URL(request.url);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text("method not allowed\n", 405, { allow: "GET, HEAD" });
    }
    try {
      switch (pathname) {
        case "/healthz":
          return text("ok\n", 200);
        case "/readyz": {
          const checks = handlers.readiness();
          const ready = Object.values(checks).every(Boolean);
          const lines = Object.entries(checks).map(([name, ok]) =>
            `${name}: ${ok ? "ok" : "down"}`
          );
          return text(`${ready ? "ready" : "not ready"}\n${lines.join("\n")}\n`, ready ? 200 : 503);
        }
        case "/metrics": {
          const { text: body, contentType } = await handlers.metrics();
          return new Response(body, { headers: { "content-type": contentType, ...NO_STORE } });
        }
        case "/":
          return new Response(handlers.statusPage(), {
            headers: { "content-type": "text/html; charset=utf-8", ...NO_STORE },
          });
        default:
          return text("not found\n", 404);
      }
    } catch (error) {
      handlers.onError?.(error);
      return text("internal error\n", 500);
    }
  };
}

/** A running operations server. */
export interface OpsServer {
  /** The address it listens on (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** Stops accepting connections and resolves once requests in flight are answered. */
  shutdown(): Promise<void>;
}

/**
 * Serves {@link opsHandler} on `hostname:port`.
 *
 * @example
 * ```ts ignore
 * const server = serveOps({ hostname: "127.0.0.1", port: 9464 }, handlers);
 * await server.shutdown();
 * ```
 */
export function serveOps(
  address: { hostname: string; port: number },
  handlers: OpsHandlers,
): OpsServer {
  const server = Deno.serve({
    hostname: address.hostname,
    port: address.port,
    onListen: () => {},
  }, opsHandler(handlers));
  return {
    addr: server.addr,
    shutdown: () => server.shutdown(),
  };
}

/**
 * Returns a check that opens the SQLite file read-only and reads its schema version, remembering
 * the answer for `cacheMs` so a busy probe does not open the file on every request.
 *
 * @example
 * ```ts
 * const storeOpen = sqliteCheck("data/soyebot.db");
 * storeOpen(); // true once the session hosts have created the database
 * ```
 */
export function sqliteCheck(
  path: string,
  options: { cacheMs?: number; now?: () => number } = {},
): () => boolean {
  const cacheMs = options.cacheMs ?? 5000;
  const now = options.now ?? Date.now;
  let last: { at: number; ok: boolean } | undefined;
  return () => {
    const at = now();
    if (last && at - last.at < cacheMs) return last.ok;
    let ok: boolean;
    try {
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        db.prepare("PRAGMA user_version").get();
        ok = true;
      } finally {
        db.close();
      }
    } catch {
      ok = false;
    }
    last = { at, ok };
    return ok;
  };
}

const NO_STORE = { "cache-control": "no-store" };

function text(body: string, status: number, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...NO_STORE, ...headers },
  });
}
