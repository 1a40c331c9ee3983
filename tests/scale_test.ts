/**
 * Scale-out, end to end: two real bot processes (`SHARDS=0` and `SHARDS=1` of `SHARD_COUNT=2`)
 * against one fake Discord with a sharded gateway, one fake Gemini enforcing one quota, and one
 * real `redis-server`. Each message is answered once, by the process whose shard owns its guild;
 * together they use the whole Gemini quota without a 429 and stay inside one Discord budget; a
 * process killed and started again with the same SHARDS continues its conversations.
 */
import assert from "node:assert/strict";
import { connectRedis } from "../lib/redis_client.ts";
import { type BotProcess, turns, until, World } from "./harness.ts";
import { REDIS_MISSING, RedisServer } from "./redis_server.ts";

/** A guild on shard `shard` of 2: Discord's rule is `(guild_id >> 22) % shard_count`. */
const guildOn = (shard: number) => String((((1n << 40n) + BigInt(shard)) << 22n) | 7n);
const channelOf = (shard: number, i: number) =>
  `1200000000000${shard}${String(i).padStart(5, "0")}`;

/** The fake Gemini's quota, in requests a minute, and the bot's budget set to match it. */
const RPM = 60;
/** Discord requests a second for the whole bot, both processes together. */
const REST_RATE = 20;

/** Starts a bot of `shard` of 2 with its endpoints; returns it and its base URL. */
async function startShard(
  world: World,
  redis: RedisServer,
  shard: number,
  extra: Record<string, string> = {},
): Promise<{ bot: BotProcess; base: string }> {
  const bot = await world.startBot({
    SHARDS: String(shard),
    SHARD_COUNT: "2",
    REDIS_URL: redis.url(),
    USER_RATE_LIMIT: "1000",
    HTTP_PORT: "0",
    ...extra,
  });
  const pattern = /Operations endpoints on http:\/\/([\d.]+):(\d+)\//;
  await bot.waitForOutput(pattern);
  const [, host, port] = bot.output.match(pattern)!;
  return { bot, base: `http://${host}:${port}` };
}

/** The messages a process's metrics say it took in. */
async function messagesTaken(base: string): Promise<number> {
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const line = metrics.split("\n").find((l) => l.startsWith("soyebot_messages_total "));
  return Number(line?.split(" ")[1] ?? NaN);
}

/** The bot's messages replying to `id`, deleted ones left out. */
function repliesTo(world: World, channelId: string, id: string): string[] {
  return world.discord.messagesIn(channelId)
    .filter((m) => m.author.bot && !m.deleted && m.message_reference?.message_id === id)
    .map((m) => m.content);
}

const redisTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: REDIS_MISSING, sanitizeOps: false, sanitizeResources: false, fn });

redisTest(
  "two processes answer each message once, by shard, use the whole Gemini quota without a 429 and share one Discord budget",
  async () => {
    const redis = await RedisServer.start();
    const world = await World.create({ discord: { shards: 2 }, gemini: { quota: { rpm: RPM } } });
    try {
      const env = {
        GEMINI_RPM: String(RPM),
        GEMINI_MAX_WAIT_SECONDS: "12",
        DISCORD_REST_RATE: String(REST_RATE),
      };
      const zero = await startShard(world, redis, 0, env);
      const one = await startShard(world, redis, 1, env);
      assert.deepEqual(world.discord.connectedShards, [0, 1]);

      // More messages than the quota allows in a minute, spread over both shards' guilds.
      const started = Date.now();
      const sent: { channelId: string; id: string; shard: number }[] = [];
      const total = RPM + 10;
      for (let i = 0; i < total; i++) {
        // Uneven, as real guilds are: three in four on shard 0, so a fixed half each would
        // leave a quarter of the quota unused.
        const shard = i % 4 === 3 ? 1 : 0;
        const channelId = channelOf(shard, i % 13);
        const message = await world.discord.sendUserMessage({
          channelId,
          guildId: guildOn(shard),
          content: `질문 ${i}`,
          mentionsBot: true,
          username: `사람${i}`,
        });
        sent.push({ channelId, id: message.id, shard });
      }
      // No deadline of its own: speed is not what this test checks. Alone, the replies take ~15 s
      // (12 of them GEMINI_MAX_WAIT_SECONDS); a loaded machine takes several times that.
      await until(
        () => sent.every((m) => repliesTo(world, m.channelId, m.id).length > 0),
        "a reply to every message (an answer, or a notice past the wait)",
      );
      // Settle: a second reply, were there one, would be on its way now.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (const m of sent) {
        assert.equal(repliesTo(world, m.channelId, m.id).length, 1, `${m.id} answered once`);
      }
      // Each process took in only its own shard's messages.
      const onShard = (shard: number) => sent.filter((m) => m.shard === shard).length;
      assert.equal(await messagesTaken(zero.base), onShard(0));
      assert.equal(await messagesTaken(one.base), onShard(1));

      const answered = world.generateRequests().filter((r) => r.status === 200).length;
      assert.equal(world.gemini.stats.rejected429, 0, "no 429 from the shared quota");
      assert.ok(answered >= Math.ceil(RPM * 0.95), `${answered} of the quota's ${RPM} used`);
      assert.ok(answered <= RPM, `${answered} calls within a minute's quota of ${RPM}`);
      // One Discord budget: REST_RATE a second over both as they send, with a quarter more for
      // the jitter between sending and arriving on a loaded machine (unshared, they reach 50).
      const busiest = world.discord.busiestSecond(started);
      assert.ok(busiest <= REST_RATE * 1.25, `${busiest} Discord requests a second`);
      assert.deepEqual(world.discord.invalidRequests, []);
    } finally {
      await world.close();
      await redis.stop();
    }
  },
);

redisTest(
  "a process SIGKILLed and started again with the same SHARDS continues its conversations from Redis",
  async () => {
    const redis = await RedisServer.start();
    const world = await World.create({ discord: { shards: 2 } });
    try {
      await startShard(world, redis, 0);
      const one = await startShard(world, redis, 1);
      const channelId = channelOf(1, 1);
      const peek = connectRedis(redis.url());
      const stored: string[] = [];
      const watch = setInterval(async () => {
        if (await peek.llen(`soyebot:{${channelId}}:window`).catch(() => 0) > 0) {
          stored.push(channelId);
        }
      }, 50);
      const say = (content: string) =>
        world.discord.sendUserMessage({
          channelId,
          guildId: guildOn(1),
          content,
          mentionsBot: true,
          username: "민수",
        });
      world.gemini.reply("하나 받았어.");
      await say("하나");
      await until(() => world.botMessages(channelId).includes("하나 받았어."), "the first answer");
      // Recorded once the answer is shown: kill it only after the exchange is in Redis.
      await until(() => stored.includes(channelId), "the exchange in Redis");
      await one.bot.stop("SIGKILL");
      // Its shard is offline now, as Discord would see it; the other process does not take it.
      await until(() => world.discord.connectedShards.join() === "0", "shard 1 to drop");

      await startShard(world, redis, 1);
      world.gemini.reply("둘 받았어.");
      await say("둘");
      await until(() => world.botMessages(channelId).includes("둘 받았어."), "the answer after");
      assert.deepEqual(turns(world.generateRequests().at(-1)!), [
        ["user", "민수: 하나"],
        ["model", "하나 받았어."],
        ["user", "민수: 둘"],
      ]);
      clearInterval(watch);
      peek.disconnect();
    } finally {
      await world.close();
      await redis.stop();
    }
  },
);
