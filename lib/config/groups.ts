/**
 * Readers of the configuration's grouped settings: the attachment limits, the shard range, the
 * Redis URL and the supervisor's policy. Each throws {@link ConfigError} naming the variable.
 *
 * @module
 */
import { ConfigError, type Env, int } from "./parse.ts";
import { parseShardIds, type ShardRange } from "../discord/mod.ts";
import { DEFAULT_SUPERVISOR_POLICY, type SupervisorPolicy } from "../sessions/mod.ts";

const MIB = 1024 * 1024;

/** Attachment limits (`ATTACHMENT_*`). */
export interface AttachmentConfig {
  /** Files per message, the replied-to message's included (`ATTACHMENT_MAX_COUNT`). @default 4 */
  maxCount: number;
  /** Bytes per file (`ATTACHMENT_MAX_BYTES`). @default 20 MiB */
  maxBytes: number;
  /** Bytes of a message's files together (`ATTACHMENT_MAX_TOTAL_BYTES`). @default 32 MiB */
  maxTotalBytes: number;
  /**
   * A file larger than this goes through the Gemini Files API instead of inline
   * (`ATTACHMENT_INLINE_MAX_BYTES`). @default 4 MiB
   */
  inlineMaxBytes: number;
  /** Milliseconds a file's download may take (`ATTACHMENT_FETCH_TIMEOUT_SECONDS`). @default 20000 */
  fetchTimeoutMs: number;
  /**
   * Bytes of attachments all turns of the process may hold at once; a turn waits for room
   * (`ATTACHMENT_BUDGET_BYTES`, at least `maxTotalBytes`). @default 64 MiB
   */
  budgetBytes: number;
}

/** The attachment limits (`ATTACHMENT_*`), the defaults where unset. */
export function attachmentConfig(env: Env): AttachmentConfig {
  const maxTotalBytes = int(env, "ATTACHMENT_MAX_TOTAL_BYTES", 32 * MIB, 1, 200 * MIB);
  return {
    // Discord allows 10 files a message; every byte is held in memory for the turn.
    maxCount: int(env, "ATTACHMENT_MAX_COUNT", 4, 1, 10),
    maxBytes: int(env, "ATTACHMENT_MAX_BYTES", 20 * MIB, 1, 100 * MIB),
    maxTotalBytes,
    inlineMaxBytes: int(env, "ATTACHMENT_INLINE_MAX_BYTES", 4 * MIB, 0, 14 * MIB),
    fetchTimeoutMs: int(env, "ATTACHMENT_FETCH_TIMEOUT_SECONDS", 20, 1, 300) * 1000,
    // A byte held costs several in memory while its turn runs (the bytes, their base64, the
    // request's JSON, an upload's copies): 16 turns of 4 × 4 MiB peaked at 1 GB unbounded, and
    // at 0.3 / 0.7 GB with 32 / 128 MiB here. Below one message's total, it could never be taken.
    budgetBytes: int(
      env,
      "ATTACHMENT_BUDGET_BYTES",
      Math.max(64 * MIB, maxTotalBytes),
      maxTotalBytes,
      4096 * MIB,
    ),
  };
}

/** `SHARDS` of `SHARD_COUNT`; `SHARD_COUNT` alone runs all of them here. */
export function shardRange(env: Env): ShardRange | undefined {
  const ids = env.SHARDS?.trim();
  const count = env.SHARD_COUNT?.trim();
  if (!ids && !count) return undefined;
  const range = ids ? parseShardIds(ids) : undefined;
  if (ids && !range) {
    throw new ConfigError("SHARDS", "must be a shard id such as 2 or a range such as 0-3");
  }
  if (!count) {
    throw new ConfigError(
      "SHARD_COUNT",
      "is missing: set it to the bot's total number of shards when SHARDS is set",
    );
  }
  const total = int(env, "SHARD_COUNT", 1, 1, 100_000);
  if (!range) return { first: 0, last: total - 1, total };
  if (range.last >= total) {
    throw new ConfigError("SHARDS", "must name shards below SHARD_COUNT (ids start at 0)");
  }
  return { ...range, total };
}

/** `REDIS_URL`, checked without ever showing it: it may carry a password. */
export function redisUrl(env: Env): string | undefined {
  const value = env.REDIS_URL?.trim();
  if (!value) return undefined;
  const parsed = URL.canParse(value) ? new URL(value) : undefined;
  const wellFormed = parsed !== undefined &&
    (parsed.protocol === "redis:" || parsed.protocol === "rediss:") &&
    parsed.hostname !== "" && /^(\/\d{0,5})?$/.test(parsed.pathname) && parsed.search === "";
  if (!wellFormed) {
    throw new ConfigError(
      "REDIS_URL",
      "must be a URL such as redis://host:6379/0, with an optional password " +
        "(redis://:password@host:6379/0)",
    );
  }
  return value;
}

/** The supervisor's policy: the defaults, with the variables an operator set. */
export function supervisorPolicy(env: Env): SupervisorPolicy {
  const base = DEFAULT_SUPERVISOR_POLICY;
  return {
    ...base,
    maxSessions: int(env, "SESSION_MAX", base.maxSessions, 1, 1_000_000),
    idleMs: int(env, "SESSION_IDLE_MINUTES", base.idleMs / 60_000, 1, 10_080) * 60_000,
    sweepMs: int(env, "SESSION_SWEEP_SECONDS", base.sweepMs / 1000, 1, 86_400) * 1000,
  };
}
