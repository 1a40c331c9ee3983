/**
 * The Gemini broker's parts: everything the broker actor (`actors/gemini_broker.ts`) composes.
 *
 * Owns the broker's port as the message flow sees it (generate, stats, key checks), its options and
 * their defaults, the priority queue and scheduler (concurrency cap, the pool's room, wait notices),
 * one attempt, the failure rules (retry with backoff honouring RetryInfo), keys refused and checked
 * again, the persona's context cache, token estimates and the cost of a call. Builds on gemini/ and
 * quota/.
 *
 * @module
 */
export {
  costUsd,
  DEFAULT_PRICES,
  SEARCH_FREE_QUERIES_PER_MONTH,
  SEARCH_USD_PER_1000_QUERIES,
} from "./cost.ts";
export { logBrokerEvent } from "./log.ts";
export { BROKER_DEFAULTS } from "./options.ts";
export type {
  BrokerEvent,
  BrokerRequest,
  BrokerResult,
  BrokerStats,
  KeyCheck,
  ModelPart,
  Prices,
} from "./port.ts";
