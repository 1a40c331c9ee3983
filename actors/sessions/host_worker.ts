/**
 * Worker entry for a session host: opens this thread's connection to the store and hands every
 * message to {@link SessionHost}. Store reads and writes happen here, off the main thread, so the
 * gateway's event loop never waits on disk.
 *
 * The first message is `{ type: "init", databasePath, maxExchanges, dropBlock, redis? }`: with
 * `redis`, the store is Redis (see `RedisStore`), else the SQLite file at `databasePath`. Messages
 * that arrive while Redis is being connected wait, in their order.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { RedisStoreConfig } from "../../lib/store/redis.ts";
import { type SessionStore, SqliteStore } from "../../lib/store/sqlite.ts";
import { type FromHost, SessionHost, type ToHost } from "./host.ts";

/** The first message a host worker receives. */
export interface HostInit {
  /** Tells it apart from the {@link ToHost} messages that follow. */
  type: "init";
  /** The SQLite file this worker opens its own store connection to. */
  databasePath: string;
  /** Exchanges each session keeps in its history window. */
  maxExchanges: number;
  /** Exchanges that leave a full window at once (`WINDOW_DROP_BLOCK`); left out, 1. */
  dropBlock?: number;
  /** Keep sessions in Redis instead of SQLite, shared with the other processes. */
  redis?: RedisStoreConfig;
}

let host: Promise<SessionHost> | undefined;

async function openStore(init: HostInit): Promise<SessionStore> {
  if (!init.redis) return SqliteStore.open(init.databasePath);
  // Loaded only when asked for: a single-process bot carries no Redis client in its hosts.
  const { RedisStore } = await import("../../lib/store/redis.ts");
  return await RedisStore.connect(init.redis);
}

self.onmessage = (event: MessageEvent<HostInit | ToHost>) => {
  const message = event.data;
  if (message.type === "init") {
    host = openStore(message).then((store) =>
      new SessionHost({
        store,
        maxExchanges: message.maxExchanges,
        dropBlock: message.dropBlock,
        post: (out: FromHost) => self.postMessage(out),
      })
    );
    return;
  }
  // In order: each message waits on the same promise, and its callbacks run as they were queued.
  void host!.then((h) => h.receive(message));
};
