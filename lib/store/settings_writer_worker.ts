/**
 * The settings' SQLite writes, on a thread of their own: a write that waits for another
 * connection's lock (up to SQLite's 5 s busy timeout) waits here, never on the gateway's event
 * loop. Started by `SettingsStore` with the database path; answers each write with its id, and
 * the error's message when the database refused it.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { DatabaseSync } from "node:sqlite";
import { type SettingsWrite, writeSetting } from "./settings_writes.ts";

let db: DatabaseSync | undefined;

self.onmessage = (event: MessageEvent<{ path: string } | { id: number; write: SettingsWrite }>) => {
  const message = event.data;
  if ("path" in message) {
    db = new DatabaseSync(message.path);
    db.exec("PRAGMA busy_timeout = 5000");
    return;
  }
  try {
    writeSetting(db!, message.write, Date.now());
    self.postMessage({ id: message.id });
  } catch (error) {
    self.postMessage({
      id: message.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
};
