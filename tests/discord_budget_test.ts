/**
 * Discord's global budget, end to end: about 50 REST requests a second per bot token, typing,
 * posts and every streaming edit included, counted as they arrive at the fake Discord.
 */
import assert from "node:assert/strict";
import { until, World } from "./harness.ts";

const GUILD = "1300000000000000001";
const BURST = 200;
/** Discord's limit; the bot paces itself under it. */
const DISCORD_LIMIT = 50;

/** The fake Gemini's answer to a user line: long enough to stream in pieces. */
function answerTo(line: string): string {
  return `${line} 말이지? `.repeat(6).trim();
}

Deno.test("a burst of 200 messages in one second never takes more than 50 requests in any second, and every answer arrives whole", async () => {
  const world = await World.create({
    gemini: { responder: (req) => answerTo(req.lastUserText), chunks: 6 },
  });
  try {
    await world.startBot({
      USER_RATE_LIMIT: "1000",
      GEMINI_RPM: "100000",
      GEMINI_MAX_CONCURRENCY: "50",
    });
    const channels = Array.from(
      { length: BURST },
      (_, i) => `12000000000000${String(i).padStart(5, "0")}`,
    );
    const answers = new Map(channels.map((c, i) => [c, answerTo(`사람${i}: 질문 ${i}`)]));
    // Streamed in six pieces over about 2 s, so answers are edited while they grow.
    for (let i = 0; i < BURST; i++) world.gemini.script({ chunkDelayMs: 350 });
    const started = Date.now();
    await Promise.all(channels.map((channelId, i) =>
      world.discord.sendUserMessage({
        channelId,
        guildId: GUILD,
        content: `질문 ${i}`,
        mentionsBot: true,
        username: `사람${i}`,
      })
    ));
    // (How fast the burst went out is the machine's business: the budget holds either way.)

    const whole = () => channels.every((c) => world.botMessages(c).includes(answers.get(c)!));
    await until(whole, "every answer, whole", 90_000);
    // Settle: nothing may still be on its way (a late edit, a stray countdown).
    await new Promise((r) => setTimeout(r, 1500));

    // Counted as requests arrive at the fake, interaction responses aside (outside the budget).
    const busiest = world.discord.busiestSecond(started);
    assert.ok(busiest <= DISCORD_LIMIT, `${busiest} requests in one second`);
    for (const channelId of channels) {
      assert.deepEqual(world.botMessages(channelId), [answers.get(channelId)], channelId);
    }
    assert.deepEqual(world.discord.invalidRequests, []);
  } finally {
    await world.close();
  }
});
