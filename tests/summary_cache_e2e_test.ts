/**
 * The summary cache, end to end: the real bot with `REDIS_URL` answers the same `!요약` again
 * from Redis, without a Gemini call, saying so, and a restarted process does too.
 */
import assert from "node:assert/strict";
import { connectRedis, whenReady } from "../lib/redis_client.ts";
import { text } from "../lib/text/strings_ko.ts";
import { until, World } from "./harness.ts";
import { REDIS_MISSING, RedisServer } from "./redis_server.ts";

const GUILD = "1300000000000000001";
const CHANNEL = "1200000000000000001";

Deno.test({
  name: "the same !요약 again is answered from Redis without Gemini, by a restarted process too",
  ignore: REDIS_MISSING,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const redis = await RedisServer.start();
    const world = await World.create();
    try {
      const env = { REDIS_URL: redis.url(), USER_RATE_LIMIT: "1000" };
      const bot = await world.startBot(env);
      const say = (content: string, username = "민수") =>
        world.discord.sendUserMessage({ channelId: CHANNEL, guildId: GUILD, content, username });
      await say("오늘 저녁 7시에 모이자");
      await say("난 8시가 좋은데", "지수");
      const summaries = () => world.botMessages(CHANNEL);
      world.gemini.reply("- 저녁 약속을 정하는 중");
      await say("!요약");
      await until(() => summaries().length === 1, "the summary");
      const summary = summaries()[0];
      assert.equal(summary, `${text.summaryHeaderRecent(30, 2)}\n- 저녁 약속을 정하는 중`);
      const calls = world.generateRequests().length;

      await say("!요약");
      await until(() => summaries().length === 2, "the summary again");
      assert.equal(summaries()[1], `${summary}\n${text.summaryCached(0)}`);
      assert.equal(world.generateRequests().length, calls, "no Gemini call for it");

      const peek = connectRedis(redis.url());
      await whenReady(peek, 5_000);
      assert.equal((await peek.keys(`soyebot:{${CHANNEL}}:summary:*`)).length, 1);
      peek.disconnect();

      await bot.stop("SIGKILL");
      await world.startBot(env);
      await say("!요약");
      await until(() => summaries().length === 3, "the summary from a new process");
      assert.equal(summaries()[2], `${summary}\n${text.summaryCached(0)}`);
      assert.equal(world.generateRequests().length, calls);
    } finally {
      await world.close();
      await redis.stop();
    }
  },
});

Deno.test("a !요약 after an edit summarises the edited text, not the summary cached before it", async () => {
  const world = await World.create();
  try {
    await world.startBot({ USER_RATE_LIMIT: "1000" });
    const say = (content: string, username = "민수") =>
      world.discord.sendUserMessage({ channelId: CHANNEL, guildId: GUILD, content, username });
    const first = await say("오늘 저녁 7시에 모이자");
    await say("난 8시가 좋은데", "지수");
    world.gemini.reply("- 7시냐 8시냐");
    await say("!요약");
    await until(() => world.botMessages(CHANNEL).length === 1, "the summary");
    const calls = world.generateRequests().length;

    world.discord.editUserMessage(first.id, "오늘 저녁 9시에 모이자");
    world.gemini.reply("- 9시냐 8시냐");
    await say("!요약");
    await until(() => world.botMessages(CHANNEL).length === 2, "the summary after the edit");
    assert.equal(
      world.botMessages(CHANNEL)[1],
      `${text.summaryHeaderRecent(30, 2)}\n- 9시냐 8시냐`,
    );
    assert.equal(world.generateRequests().length, calls + 1);
    assert.match(JSON.stringify(world.generateRequests().at(-1)!.body.contents), /9시에 모이자/);
  } finally {
    await world.close();
  }
});
