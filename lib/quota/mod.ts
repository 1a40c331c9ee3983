/**
 * Quota: how much of Gemini the bot may spend, and where.
 *
 * Owns the token pool (its keys, per-project quotas counted over sliding windows, circuit breakers),
 * the port it implements, and how processes share a quota: 1/N locally, or leased and settled through
 * Redis. Imports nothing of the bot but the shared base.
 *
 * @module
 */
export { RedisQuotaShare } from "./redis.ts";
export { LocalQuotaShare } from "./share.ts";
export type { QuotaShare } from "./share.ts";
export { MemoryTokenPool } from "./token_pool.ts";
export type { KeyBudget, KeyStatus, QuotaDimension, Reservation, TokenPool } from "./token_pool.ts";
