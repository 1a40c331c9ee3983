/**
 * Discord: the adapter and everything about talking to Discord.
 *
 * Owns the port the rest of the bot sees Discord through, the adapter over discordeno that implements
 * it, the events it turns gateway payloads into, REST pacing within Discord's budget (shared through
 * Redis when processes share a bot), the gateway's shards and reconnects, the session start limit, and
 * the bot's managed roles. Every message sent or edited sets `allowed_mentions` to parse nothing.
 *
 * @module
 */
export { connectDiscord } from "./adapter.ts";
export type {
  ActionRow,
  ChatMessage,
  CommandDefinition,
  DiscordConnection,
  DiscordPort,
  HistoryMessage,
  ReferencedMessage,
} from "./adapter.ts";
export { DISCORD_REQUESTS_PER_SECOND } from "./budget.ts";
export type { ComponentPress, SlashCommand } from "./events.ts";
export { shouldAnswer, stripMention } from "./mention.ts";
export { RedisRequestBudget } from "./redis_budget.ts";
export type { SharedBudget } from "./request_pacer.ts";
export { CLAIM_TTL_MS, claimShards, ShardsTakenError } from "./shard_claim.ts";
export type { ShardClaim } from "./shard_claim.ts";
export { parseShardIds, processCount, shardLabel } from "./shard_range.ts";
export type { ShardRange } from "./shard_range.ts";
