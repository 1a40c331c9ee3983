/**
 * Benchmark: time from a user's message (the fake Discord's MESSAGE_CREATE dispatch) to the first
 * visible text (the bot's first POST with content), with a fake Gemini whose first chunk comes
 * after 500 ms. The bot adds nothing worth waiting for when the ratio to 500 ms stays ≤ 1.05.
 *
 * Run: `deno run -P=bench bench/first_text.ts [--messages=20]`. Prints p50 and p99 and exits 0;
 * with `--check`, exits 1 when p50's ratio is over the goal.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { percentile } from "../lib/percentiles.ts";
import { World } from "../tests/harness.ts";

/** When the fake Gemini sends its first chunk. */
const FIRST_CHUNK_MS = 500;
/** The goal for p50 / FIRST_CHUNK_MS. */
const GOAL_RATIO = 1.05;
const GUILD = "1300000000000000001";

/** One measurement run's result, in ms. */
export interface FirstTextResult {
  samples: number[];
  p50: number;
  p99: number;
  ratio: number;
}

/**
 * Starts the bot on the fakes, sends `messages` mentions one after another (each in its own
 * channel, from its own user, so each starts a session) and measures each first text.
 *
 * @example
 * ```ts ignore
 * const { p50, ratio } = await measureFirstText({ messages: 20 });
 * ```
 */
export async function measureFirstText(
  options: { messages?: number; warmup?: number } = {},
): Promise<FirstTextResult> {
  const { messages = 20, warmup = 2 } = options;
  const world = await World.create();
  try {
    await world.startBot({ GEMINI_RPM: "100000", GEMINI_RPD: "1000000", LOG_LEVEL: "warning" });
    const samples: number[] = [];
    for (let i = 0; i < warmup + messages; i++) {
      const channelId = String(1500000000000000000n + BigInt(i));
      world.gemini.script({ text: "응, 듣고 있어. 천천히 말해 봐.", delayFirstMs: FIRST_CHUNK_MS });
      const sentAt = Date.now();
      await world.discord.sendUserMessage({
        channelId,
        guildId: GUILD,
        content: `벤치마크 ${i}`,
        mentionsBot: true,
        authorId: String(1600000000000000000n + BigInt(i)),
        username: "bench",
      });
      const post = await world.discord.waitForRequest(
        (r) =>
          r.method === "POST" && r.path === `/channels/${channelId}/messages` &&
          typeof (r.body as { content?: unknown })?.content === "string",
        10_000,
      );
      if (i >= warmup) samples.push(post.at - sentAt);
      // Let the reply finish, so the next message measures a quiet bot.
      await world.discord.waitForRequest(
        (r) => r.method === "PATCH" && r.path.startsWith(`/channels/${channelId}/messages/`),
        3_000,
      )
        .catch(() => {});
    }
    if (world.discord.invalidRequests.length > 0) {
      throw new Error(`the bot sent invalid requests: ${world.discord.invalidRequests.length}`);
    }
    const p50 = percentile(samples, 50);
    return { samples, p50, p99: percentile(samples, 99), ratio: p50 / FIRST_CHUNK_MS };
  } finally {
    await world.close();
  }
}

if (import.meta.main) {
  const args = parseArgs({
    args: Deno.args,
    options: { messages: { type: "string", default: "20" }, check: { type: "boolean" } },
  });
  const result = await measureFirstText({ messages: Number(args.values.messages) });
  const ratio = (ms: number) => (ms / FIRST_CHUNK_MS).toFixed(3);
  console.log(
    `first_text: ${result.samples.length} messages, Gemini's first chunk after ${FIRST_CHUNK_MS} ms`,
  );
  console.log(`first_text: p50 ${result.p50} ms (×${ratio(result.p50)})`);
  console.log(`first_text: p99 ${result.p99} ms (×${ratio(result.p99)})`);
  const met = result.ratio <= GOAL_RATIO;
  console.log(`first_text: goal p50 ≤ ×${GOAL_RATIO}: ${met ? "met" : "MISSED"}`);
  if (args.values.check && !met) Deno.exit(1);
}
