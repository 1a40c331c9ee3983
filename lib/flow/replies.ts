/**
 * The small Discord pieces every flow shares: a reply that never throws, and the ⏳ countdown
 * that follows a broker request's wait.
 *
 * @module
 */
import { Countdown } from "../reply/mod.ts";
import type { DiscordPort } from "../discord/mod.ts";
import type { Logger } from "../log.ts";

/** Replies to message `replyTo` in `channelId`; resolves false (and logs) when Discord failed. */
export async function reply(
  discord: Pick<DiscordPort, "sendMessage">,
  logger: Logger,
  target: { channelId: string; id: string },
  content: string,
): Promise<boolean> {
  try {
    await discord.sendMessage(target.channelId, content, { replyTo: target.id });
    return true;
  } catch (error) {
    logger.error("Could not reply: {error}", {
      channelId: target.channelId,
      error: String(error),
    });
    return false;
  }
}

/** A ⏳ countdown in `channelId`, shown only if a call must wait; its changes are logged. */
export function countdownIn(
  discord: Pick<DiscordPort, "sendMessage" | "editMessage" | "deleteMessage">,
  logger: Logger,
  channelId: string,
  replyTo?: string,
): Countdown {
  return new Countdown({
    discord,
    channelId,
    replyTo,
    onError: (error) => logger.warn("Countdown failed: {error}", { error: String(error) }),
    onChange: (what, secondsLeft) => logger.info(`Countdown ${what}`, { channelId, secondsLeft }),
  });
}

/** Follows a broker request's wait: the countdown runs while it waits and pauses when it starts. */
export function waitOn(countdown: Countdown): (startsAt: number | undefined) => void {
  return (startsAt) => startsAt === undefined ? countdown.pause() : countdown.show(startsAt);
}
