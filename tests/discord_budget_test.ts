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

    // Watched as requests arrive, not by scanning 200 channels every 10 ms: that scan ran in the
    // fake's own process and stalled it, bunching the arrivals the busiest second is counted from.
    const whole = new Set<string>();
    world.discord.onRequest((r) => {
      const channel = r.path.match(/^\/channels\/(\d+)\/messages/)?.[1];
      const content = (r.body as { content?: unknown } | undefined)?.content;
      if (channel && content === answers.get(channel)) whole.add(channel);
    });
    await until(() => whole.size === BURST, "every answer, whole", 90_000);
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

Deno.test("while posts queue for the budget, they go before edits, typing waits, and an answer complete by its turn costs one request", async () => {
  const world = await World.create({
    gemini: { responder: (req) => answerTo(req.lastUserText) },
  });
  try {
    // 10 a second: 40 posts take 4 s, while every answer is complete after about 0.6 s.
    await world.startBot({
      DISCORD_REST_RATE: "10",
      USER_RATE_LIMIT: "1000",
      GEMINI_RPM: "100000",
      GEMINI_MAX_CONCURRENCY: "50",
    });
    const channels = Array.from(
      { length: 40 },
      (_, i) => `1220000000000${String(i).padStart(6, "0")}`,
    );
    for (const _ of channels) world.gemini.script({ chunks: 4, chunkDelayMs: 200 });
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
    const answers = new Map(channels.map((c, i) => [c, answerTo(`사람${i}: 질문 ${i}`)]));
    const whole = () => channels.every((c) => world.botMessages(c).includes(answers.get(c)!));
    await until(whole, "every answer, whole", 60_000);
    await new Promise((r) => setTimeout(r, 1000));

    const sent = world.discord.requests.filter((r) => r.at >= started && r.path !== "/gateway/bot");
    const posts = sent.filter((r) => r.method === "POST" && r.path.endsWith("/messages"));
    const edits = sent.filter((r) => r.method === "PATCH");
    assert.equal(sent.filter((r) => r.path.endsWith("/typing")).length, 0, "typing while busy");
    assert.equal(posts.length, channels.length);
    const lastPost = Math.max(...posts.map((r) => r.at));
    assert.ok(edits.every((r) => r.at >= lastPost), "an edit went before a waiting post");
    const oneRequest = channels.filter((c) => {
      const own = sent.filter((r) => r.path.startsWith(`/channels/${c}/`));
      return own.length === 1 && (own[0].body as { content: string }).content === answers.get(c);
    });
    assert.ok(
      oneRequest.length >= channels.length / 2,
      `${oneRequest.length} of ${channels.length} answers came whole in their one post`,
    );
    assert.ok(sent.length / channels.length <= 1.5, `${sent.length} requests`);
  } finally {
    await world.close();
  }
});

Deno.test("when the budget is idle, a lone answer of 6 chunks over 3 s shows its first text within 400 ms and at least 2 updates before its final text", async () => {
  const answer = answerTo("혼자 묻는 질문").repeat(2);
  const world = await World.create({ gemini: { responder: () => answer } });
  try {
    await world.startBot();
    // A first exchange elsewhere, so the measured one meets a warm bot, as a lone user would.
    await world.mention("1210000000000000001", GUILD, "준비");
    await until(() => world.botMessages("1210000000000000001").includes(answer), "warm-up");

    const channelId = "1210000000000000002";
    world.gemini.script({ chunks: 6, chunkDelayMs: 600 });
    const sentAt = Date.now();
    await world.mention(channelId, GUILD, "혼자 묻는 질문");
    await until(() => world.botMessages(channelId).includes(answer), "the whole answer", 15_000);

    const inChannel = world.discord.requests.filter((r) =>
      r.at >= sentAt && r.path.startsWith(`/channels/${channelId}/messages`)
    );
    const [post, ...edits] = inChannel;
    const contentOf = (r: typeof post) => (r.body as { content: string }).content;
    assert.equal(post.method, "POST");
    assert.ok(post.at - sentAt <= 400, `first text after ${post.at - sentAt} ms`);
    assert.ok(contentOf(post).length < answer.length, "the first text is the first chunk");
    assert.ok(edits.every((r) => r.method === "PATCH"), "one message, edited in place");
    assert.equal(contentOf(edits.at(-1)!), answer);
    const updates = edits.slice(0, -1).map(contentOf);
    assert.ok(updates.length >= 2, `${updates.length} updates before the final text`);
    for (let i = 1; i < updates.length; i++) {
      assert.ok(updates[i].length > updates[i - 1].length, "each update shows more");
    }
    assert.ok(updates[0].length > contentOf(post).length, "each update shows more");
  } finally {
    await world.close();
  }
});
