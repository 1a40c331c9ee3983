/**
 * How each session-layer event is logged: its level and its message. Sessions coming and going are
 * INFO; a store that refuses or loses writes is an ERROR that carries SQLite's own message and
 * the channel, because that is what an operator has to act on.
 *
 * @module
 */
import type { Logger } from "../../lib/log.ts";
import type { SessionsEvent } from "./sessions.ts";

/**
 * Writes one session-layer event to `logger`.
 *
 * @example
 * ```ts ignore
 * new Sessions({ ...options, onEvent: (event) => logSessionsEvent(log, event) });
 * ```
 */
export function logSessionsEvent(logger: Logger, event: SessionsEvent): void {
  switch (event.type) {
    case "store": {
      const { host, event: store } = event;
      const properties = { host, ...store };
      switch (store.type) {
        case "write_failed":
          return logger.error(
            "Store write failed for channel {channelId}, held to retry: {error}",
            properties,
          );
        case "retry_failed":
          // Every few seconds while the outage lasts; the metrics and /readyz carry it meanwhile.
          return logger.debug("Store retry failed: {error}", properties);
        case "recovered":
          return logger.info("Store writes again: {written} held writes saved", properties);
        case "dropped":
          return logger.error("Store dropped {count} writes ({reason}): {error}", properties);
      }
      return;
    }
    case "store_writes_lost":
      return logger.error(
        "Session host {host} died holding {count} writes its store had refused; they are lost",
        event,
      );
    default:
      return logger.info(`Session ${event.type}`, event);
  }
}
