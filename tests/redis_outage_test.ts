/**
 * Redis restarting, end to end: the real bot with `REDIS_URL` while its Redis is down for about
 * 10 s. Answers go on (the live session has its window; the quota and the Discord budget fall
 * back to the local share), `/readyz` says the store is not ready, the held write reaches Redis
 * once it is back, with no one restarting anything, and a new process finds every exchange.
 */
import assert from "node:assert/strict";
import { text } from "../lib/text/strings_ko.ts";
import { turns, until, World } from "./harness.ts";
import { REDIS_MISSING, RedisServer } from "./redis_server.ts";

const GUILD = "1300000000000000001";
const CHANNEL = "1200000000000000001";
const OUTAGE_MS = 10_000;

async function readyz(base: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${base}/readyz`);
  return { status: response.status, body: await response.text() };
}

/** Polls an async `condition` until it holds. */
async function eventually(condition: () => Promise<boolean>, what: string, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test({
  name:
    "Redis down for 10 s: answers go on, /readyz names the store, the held write lands by itself",
  ignore: REDIS_MISSING,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // Persistent, as a production Redis is: a restart keeps what was written before it.
    const redis = await RedisServer.start({ persist: true });
    const world = await World.create();
    try {
      const env = { REDIS_URL: redis.url(), USER_RATE_LIMIT: "1000", HTTP_PORT: "0" };
      const bot = await world.startBot(env);
      const pattern = /Operations endpoints on http:\/\/([\d.]+):(\d+)\//;
      await bot.waitForOutput(pattern);
      const [, host, port] = bot.output.match(pattern)!;
      const base = `http://${host}:${port}`;
      const say = (content: string) =>
        world.discord.sendUserMessage({
          channelId: CHANNEL,
          guildId: GUILD,
          content,
          mentionsBot: true,
          username: "민수",
        });

      world.gemini.reply("하나 받았어.");
      await say("하나");
      await until(() => world.botMessages(CHANNEL).includes("하나 받았어."), "the first answer");
      await eventually(async () => (await readyz(base)).status === 200, "ready before the outage");

      await redis.pause("SIGTERM");
      const outageStarted = Date.now();
      world.gemini.reply("둘도 받았어.");
      await say("둘");
      await until(() => world.botMessages(CHANNEL).includes("둘도 받았어."), "an answer meanwhile");
      // Told once that it is not being saved for now.
      await until(() => world.botMessages(CHANNEL).includes(text.unsaved), "the unsaved notice");
      const down = await readyz(base);
      assert.equal(down.status, 503);
      assert.match(down.body, /store/);

      await new Promise((r) =>
        setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)))
      );
      await redis.resume();
      await eventually(async () => (await readyz(base)).status === 200, "ready again", 40_000);

      // A new process on the same Redis finds both exchanges, the held one included.
      await bot.stop("SIGKILL");
      await world.startBot({ ...env, HTTP_PORT: "" });
      world.gemini.reply("셋.");
      await say("셋");
      await until(() => world.botMessages(CHANNEL).includes("셋."), "the answer after");
      assert.deepEqual(turns(world.generateRequests().at(-1)!), [
        ["user", "민수: 하나"],
        ["model", "하나 받았어."],
        ["user", "민수: 둘"],
        ["model", "둘도 받았어."],
        ["user", "민수: 셋"],
      ]);
    } finally {
      await world.close();
      await redis.stop();
    }
  },
});
