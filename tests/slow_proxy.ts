/**
 * A TCP proxy on loopback that slows a server down: every chunk a client sends reaches the server
 * `latencyMs` later, in order (a slow Redis, as the red team's proxy made it). The latency can be
 * changed while connections are open; 0 forwards at once.
 *
 * @module
 */

/** A running proxy in front of `127.0.0.1:<target>`. */
export class SlowProxy {
  /** The port clients connect to. */
  readonly port: number;
  /** Added to every chunk from a client to the server. */
  latencyMs: number;
  #listener: Deno.Listener;
  #conns = new Set<Deno.Conn>();
  #accepting: Promise<void>;

  private constructor(listener: Deno.Listener, target: number, latencyMs: number) {
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.latencyMs = latencyMs;
    this.#accepting = this.#accept(target);
  }

  /** Listens on a free loopback port, forwarding to `127.0.0.1:<target>`. */
  static start(target: number, latencyMs = 0): SlowProxy {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return new SlowProxy(listener, target, latencyMs);
  }

  /** A Redis URL through the proxy. */
  url(db = 0): string {
    return `redis://127.0.0.1:${this.port}/${db}`;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) close(conn);
    await this.#accepting;
  }

  async #accept(target: number): Promise<void> {
    try {
      for await (const client of this.#listener) {
        const server = await Deno.connect({ hostname: "127.0.0.1", port: target }).catch(() => {
          close(client);
          return undefined;
        });
        if (!server) continue;
        this.#conns.add(client).add(server);
        const end = () => {
          close(client);
          close(server);
          this.#conns.delete(client);
          this.#conns.delete(server);
        };
        this.#pipe(client, server, true).finally(end);
        this.#pipe(server, client, false).finally(end);
      }
    } catch {
      // closed
    }
  }

  /** Copies `from` to `to`, each chunk `latencyMs` late when `slowed`, keeping their order. */
  async #pipe(from: Deno.Conn, to: Deno.Conn, slowed: boolean): Promise<void> {
    let previous = Promise.resolve();
    try {
      for await (const chunk of from.readable) {
        const due = Date.now() + (slowed ? this.latencyMs : 0);
        const after = previous;
        previous = (async () => {
          await after;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          await writeAll(to, chunk);
        })().catch(() => {});
      }
    } catch {
      // the other side closed
    }
    await previous;
  }
}

async function writeAll(conn: Deno.Conn, chunk: Uint8Array): Promise<void> {
  let written = 0;
  while (written < chunk.length) written += await conn.write(chunk.subarray(written));
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
