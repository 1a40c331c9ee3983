/**
 * The e2e benchmark's eye on the fake Discord: when a channel's answer shows in full, and which
 * posts and edits could have pinged someone.
 *
 * @module
 */
import type { FakeDiscord } from "../tests/fakes/fake_discord.ts";

/**
 * Resolves each channel's wait when a message in it shows `reply` in full, and counts the
 * posts and edits that could ping someone (no `allowed_mentions.parse: []`).
 */
export function answerWatch(
  discord: FakeDiscord,
  options: { reply: string; timeoutMs: number },
): {
  waitForAnswer(channel: string, what: string): Promise<void>;
  unguarded(): number;
} {
  const { reply, timeoutMs } = options;
  const waiting = new Map<string, () => void>();
  let unguarded = 0;
  discord.onRequest((r) => {
    if (r.status !== 200 || (r.method !== "POST" && r.method !== "PATCH")) return;
    const channel = r.path.match(/^\/channels\/(\d+)\/messages(\/\d+)?$/)?.[1];
    if (!channel) return;
    const body = r.body as { content?: unknown; allowed_mentions?: { parse?: unknown[] } };
    if (body?.allowed_mentions?.parse?.length !== 0) unguarded++;
    if (body?.content === reply) waiting.get(channel)?.();
  });
  const waitForAnswer = (channel: string, what: string): Promise<void> => {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(() => {
      waiting.delete(channel);
      reject(new Error(`no full answer to ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    waiting.set(channel, () => {
      clearTimeout(timer);
      waiting.delete(channel);
      resolve();
    });
    return promise;
  };
  return { waitForAnswer, unguarded: () => unguarded };
}
