/**
 * Worker entry for a session host: opens this thread's connection to the store and hands every
 * message to {@link SessionHost}. Store reads and writes happen here, off the main thread, so the
 * gateway's event loop never waits on disk.
 *
 * The first message is `{ type: "init", databasePath, maxExchanges, dropBlock }`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { SqliteStore } from "../lib/store.ts";
import { type FromHost, SessionHost, type ToHost } from "./session_host.ts";

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
}

let host: SessionHost | undefined;

self.onmessage = (event: MessageEvent<HostInit | ToHost>) => {
  const message = event.data;
  if (message.type === "init") {
    const store = SqliteStore.open(message.databasePath);
    host = new SessionHost({
      store,
      maxExchanges: message.maxExchanges,
      dropBlock: message.dropBlock,
      post: (out: FromHost) => self.postMessage(out),
    });
    return;
  }
  host!.receive(message);
};
