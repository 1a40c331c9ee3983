/**
 * The real bot process with `REDIS_URL`, against a real `redis-server`: sessions live in Redis, so
 * a process killed and started again (here on an empty DATA_DIR, to rule SQLite out) continues
 * every conversation, and a Redis that can't be reached stops the start with a plain message.
 */
import assert from "node:assert/strict";
import { text } from "../lib/text/strings_ko.ts";
import { BotProcess, ROOT, turns, until, World } from "./harness.ts";
import { REDIS_MISSING, RedisServer } from "./redis_server.ts";
import { fakeSignature } from "./fakes/fake_gemini.ts";

const GUILD = "1300000000000000001";
const CHANNEL = "1200000000000000001";
const ENV = { USER_RATE_LIMIT: "1000" };

/** Ioredis in the test process (the harness's probes) closes its sockets a tick late. */
const redisTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: REDIS_MISSING, sanitizeOps: false, sanitizeResources: false, fn });

redisTest(
  "with REDIS_URL a SIGKILLed process started again continues from Redis, SQLite aside",
  async () => {
    const redis = await RedisServer.start();
    const world = await World.create();
    const freshDir = `data/test-${crypto.randomUUID()}`;
    try {
      const env = { ...ENV, REDIS_URL: redis.url(), SHARDS: "0", SHARD_COUNT: "1" };
      const first = await world.startBot(env);
      world.gemini.reply("하나 받았어.");
      world.gemini.script({ text: "끝내 못 들은 대답", delayFirstMs: 60_000 });
      await say(world, "하나");
      await until(() => world.botMessages(CHANNEL).includes("하나 받았어."), "the first answer");
      const lost = await say(world, "둘");
      await until(() => world.generateRequests().length === 2, "the hanging call");
      await first.stop("SIGKILL");

      await world.startBot({ ...env, DATA_DIR: freshDir });
      await until(
        () => world.botMessages(CHANNEL).includes(text.unanswered),
        "the unanswered notice, from Redis",
      );
      const notice = world.discord.messagesIn(CHANNEL).find((m) => m.content === text.unanswered);
      assert.equal(notice?.message_reference?.message_id, lost.id);
      world.gemini.reply("셋.");
      await say(world, "셋");
      await until(() => world.generateRequests().length === 3, "the call after the restart");
      assert.deepEqual(turns(world.generateRequests()[2]), [
        ["user", "민수: 하나"],
        ["model", "하나 받았어."],
        ["user", "민수: 셋"],
      ]);
    } finally {
      await world.close();
      await Deno.remove(`${ROOT}${freshDir}`, { recursive: true }).catch(() => {});
      await redis.stop();
    }
  },
);

redisTest(
  "a Redis that can't be reached stops the start plainly, never showing the password",
  async () => {
    const world = await World.create();
    try {
      // A port nothing listens on.
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (listener.addr as Deno.NetAddr).port;
      listener.close();
      const bot = new BotProcess(
        world.env({ REDIS_URL: `redis://:hunter2-pw@127.0.0.1:${port}/0` }),
      );
      const status = await bot.exited;
      assert.equal(status.code, 1, bot.output);
      assert.match(
        bot.output,
        new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}/0`),
      );
      assert.doesNotMatch(bot.output, /hunter2/);
    } finally {
      await world.close();
    }
  },
);

Deno.test("a malformed REDIS_URL or SHARDS stops the start with exit code 2 naming it", async () => {
  const world = await World.create();
  try {
    for (
      const [env, variable] of [
        [{ REDIS_URL: "http://:hunter2-pw@cache:6379" }, "REDIS_URL"],
        [{ SHARDS: "0-2", SHARD_COUNT: "2" }, "SHARDS"],
        [{ SHARDS: "1" }, "SHARD_COUNT"],
      ] as const
    ) {
      const bot = new BotProcess(world.env(env));
      const status = await bot.exited;
      assert.equal(status.code, 2, bot.output);
      assert.match(bot.output, new RegExp(`configuration error: ${variable} `));
      assert.doesNotMatch(bot.output, /hunter2/);
    }
  } finally {
    await world.close();
  }
});

async function say(world: World, content: string) {
  return await world.mention(CHANNEL, GUILD, content);
}

redisTest(
  "with REDIS_URL a model turn's signature survives a restart on an empty DATA_DIR and is sent back",
  async () => {
    const redis = await RedisServer.start();
    const world = await World.create();
    const freshDir = `data/test-${crypto.randomUUID()}`;
    try {
      const env = { ...ENV, REDIS_URL: redis.url(), SHARDS: "0", SHARD_COUNT: "1" };
      const first = await world.startBot(env);
      await say(world, "서명 기억해");
      await until(() => world.botMessages(CHANNEL).length === 1, "the first answer");
      await first.stop();
      await world.startBot({ ...env, DATA_DIR: freshDir });
      await say(world, "아직 기억해?");
      await until(() => world.generateRequests().length === 2, "the call after the restart");
      const firstCall = world.gemini.requests.indexOf(world.generateRequests()[0]);
      const contents = world.generateRequests()[1].body.contents as {
        role: string;
        parts: { thoughtSignature?: string }[];
      }[];
      const model = contents.filter((c) => c.role === "model");
      assert.equal(model.length, 1);
      assert.equal(model[0].parts.at(-1)?.thoughtSignature, fakeSignature(`fake-${firstCall}`));
    } finally {
      await world.close();
      await Deno.remove(`${ROOT}${freshDir}`, { recursive: true }).catch(() => {});
      await redis.stop();
    }
  },
);
