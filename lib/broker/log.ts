/**
 * How each broker event is logged: a finished call is DEBUG, a cached persona and a key that
 * passed its check again are INFO, and every other event (a retry, a parked key, a failure) is a
 * WARN named after its type.
 *
 * @module
 */
import type { BrokerEvent } from "./port.ts";
import { isLogged, type Logger } from "../log.ts";

/**
 * Writes one broker event to `logger`.
 *
 * @example
 * ```ts ignore
 * new GeminiBroker({ ...options, onEvent: (event) => logBrokerEvent(log, event) });
 * ```
 */
export function logBrokerEvent(logger: Logger, event: BrokerEvent): void {
  // LogTape builds a record before its level check drops it: one a call, skipped when debug is off.
  if (event.type === "call") {
    if (isLogged("debug")) logger.debug("Gemini call done", event);
  } else if (event.type === "cache_created") logger.info("Persona cached", event);
  else if (event.type === "key_check" && event.ok) logger.info("Gemini key back", event);
  else logger.warn(`Gemini ${event.type}`, event);
}
