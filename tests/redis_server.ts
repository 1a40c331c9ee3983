/**
 * A real `redis-server` for tests: started on a free loopback port with its own temporary
 * directory, no snapshots and no append-only file (unless asked), stopped and removed after.
 *
 * When `redis-server` is not installed, {@link REDIS_MISSING} is true and tests pass it as
 * `ignore`, so they show as ignored with the reason printed once, instead of failing.
 *
 * @module
 */
import { connectRedis, whenReady } from "../lib/redis_client.ts";

const DATA_DIR = new URL("../data/", import.meta.url).pathname;

/** The server binary, as Debian's `redis-server` package installs it. */
const REDIS_SERVER = "redis-server";

function installed(): boolean {
  try {
    return new Deno.Command(REDIS_SERVER, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** True when `redis-server` can't be run here: tests that need it are ignored. */
export const REDIS_MISSING: boolean = !installed();
if (REDIS_MISSING) {
  console.warn(
    "redis-server is not installed: the tests that need a real Redis are ignored " +
      "(install it with `apt-get install -y redis-server`; .ci/run does)",
  );
}

/** A running `redis-server`. */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  #child: Deno.ChildProcess | undefined;
  #args: string[];

  private constructor(port: number, dir: string, args: string[]) {
    this.port = port;
    this.dir = dir;
    this.#args = args;
  }

  /** Starts a server on a free port; `persist` keeps an append-only file across restarts. */
  static async start(options: { persist?: boolean } = {}): Promise<RedisServer> {
    // Under ./data: the only place the test permissions let a test write.
    await Deno.mkdir(DATA_DIR, { recursive: true });
    const dir = await Deno.makeTempDir({ dir: DATA_DIR, prefix: "redis-" });
    const port = freePort();
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      options.persist ? "yes" : "no",
      "--appendfsync",
      "always",
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
    ];
    const server = new RedisServer(port, dir, args);
    await server.resume();
    return server;
  }

  /** The URL of database `db` on this server. */
  url(db = 0): string {
    return `redis://127.0.0.1:${this.port}/${db}`;
  }

  /**
   * Stops the server, by default with SIGKILL (an outage, not a shutdown; SIGTERM lets it write
   * its append-only file first); `resume` starts it again.
   */
  async pause(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    child.kill(signal);
    await child.status;
  }

  /** Starts the server again on the same port, and waits until it answers. */
  async resume(): Promise<void> {
    if (this.#child) return;
    this.#child = new Deno.Command(REDIS_SERVER, {
      args: this.#args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const probe = connectRedis(this.url());
    try {
      await whenReady(probe, 10_000);
    } finally {
      probe.disconnect();
    }
  }

  /** A value of `INFO` (such as `total_commands_processed`), as a number. */
  async info(field: string): Promise<number> {
    const redis = connectRedis(this.url());
    try {
      await whenReady(redis, 5_000);
      const text = await redis.info();
      const line = text.split("\r\n").find((l) => l.startsWith(`${field}:`));
      return Number(line?.split(":")[1] ?? NaN);
    } finally {
      redis.disconnect();
    }
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    await this.pause();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** A loopback port nothing listens on now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * A test against a fresh redis-server, stopped afterwards; ignored, saying so, when redis-server is
 * not installed.
 */
export function redisTest(name: string, fn: (server: RedisServer) => Promise<void>): void {
  Deno.test({
    name,
    ignore: REDIS_MISSING,
    // ioredis closes its socket a tick after disconnect() returns.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const server = await RedisServer.start();
      try {
        await fn(server);
      } finally {
        await server.stop();
      }
    },
  });
}
