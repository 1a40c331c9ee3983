/**
 * How this process shares the limits that are the project's or the bot token's, whatever the
 * processes: the Gemini quota and Discord's REST rate. With Redis the processes share them
 * there; without it each keeps to 1/N; a lone process keeps all of them.
 *
 * @module
 */
import { botIdFromToken, type Config } from "../config/mod.ts";
import { type KeyBudget, LocalQuotaShare, type QuotaShare, RedisQuotaShare } from "../quota/mod.ts";
import type { RedisConnection } from "../redis_client.ts";
import { processCount, RedisRequestBudget, type SharedBudget } from "../discord/mod.ts";

/** This process's part of the Gemini quota, and how to hand back what it still holds. */
export interface GeminiShare {
  /** The share the pool consults, or undefined when this process is alone with the quota. */
  share: QuotaShare | undefined;
  /** Gives what is left of this process's leases back to the others (a no-op without Redis). */
  close(): Promise<void>;
}

/**
 * The Gemini quota share: leased from Redis, or 1/N of it when there is no Redis (and, with Redis
 * away, of what was left), or none for a single process without Redis.
 */
export function geminiShare(
  config: Pick<Config, "geminiApiKeys" | "geminiKeyProjects" | "shards">,
  budget: KeyBudget,
  redis: RedisConnection | undefined,
  onError: (error: Error) => void,
): GeminiShare {
  const processes = processCount(config.shards);
  if (redis) {
    const share = new RedisQuotaShare({
      redis,
      keys: config.geminiApiKeys,
      projects: config.geminiKeyProjects,
      budget,
      processes,
      onError,
    });
    return { share, close: () => share.close() };
  }
  const share = processes > 1 ? new LocalQuotaShare(budget, { processes }) : undefined;
  return { share, close: () => Promise.resolve() };
}

/** This process's Discord REST pacing, as `connectDiscord` takes it. */
export interface DiscordPacing {
  /** The requests a second this process may send. */
  requestsPerSecond: number;
  /** The budget shared through Redis, when there is one. */
  sharedBudget: (SharedBudget & { readonly degraded: "away" | "slow" | undefined }) | undefined;
}

/**
 * With Redis the processes share the rate there; without it, each keeps to 1/N of it (and so
 * does each while Redis is away or slow: `onDegraded` is told when that begins and ends).
 */
export function discordPacing(
  config: Pick<Config, "discordRestRate" | "discordToken" | "shards">,
  redis: RedisConnection | undefined,
  onDegraded?: (why: "away" | "slow" | undefined) => void,
): DiscordPacing {
  const processes = processCount(config.shards);
  if (!redis) {
    return { requestsPerSecond: config.discordRestRate / processes, sharedBudget: undefined };
  }
  return {
    requestsPerSecond: config.discordRestRate,
    sharedBudget: new RedisRequestBudget({
      redis,
      botId: botIdFromToken(config.discordToken),
      perSecond: config.discordRestRate,
      processes,
      onDegraded,
    }),
  };
}
