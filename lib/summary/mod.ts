/**
 * Summaries: `!요약` and `/summarize`.
 *
 * Owns parsing a summary request, reading the channel's messages it covers, asking the broker at
 * summary priority, and caching a summary by the newest message it read.
 *
 * @module
 */
export { MemorySummaryCache, RedisSummaryCache } from "./cache.ts";
export type { SummaryCache } from "./cache.ts";
export { parseSummaryCommand, summaryRequestFromOptions } from "./request.ts";
export type { SummaryRequest } from "./request.ts";
export { summarize } from "./summarize.ts";
