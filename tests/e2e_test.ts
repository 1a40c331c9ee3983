/**
 * End to end: the real bot, started through `main.ts` as `deno task start` does, against the fake
 * Discord (REST + gateway, every request held against Discord's OpenAPI spec) and the fake Gemini.
 */
import assert from "node:assert/strict";
import { GEMINI_KEY, turns, until, World } from "./harness.ts";

const CHANNEL = "1200000000000000001";
const GUILD = "1300000000000000001";

Deno.test("a mention gets a reply with Gemini's text, and the next message carries the exchange as history", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    world.gemini.reply("안녕, 나 소예야.");
    const first = await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "안녕?",
      mentionsBot: true,
      username: "민수",
    });

    const reply = await world.discord.waitForRequest((r) =>
      r.method === "POST" && r.path === `/channels/${CHANNEL}/messages`
    );
    // The answer streams in by edits; the message ends up holding Gemini's whole text.
    await until(() => world.botMessages(CHANNEL).at(-1) === "안녕, 나 소예야.", "the full reply");
    const body = reply.body as {
      allowed_mentions?: { parse?: string[]; replied_user?: boolean };
      message_reference?: { message_id?: string };
    };
    assert.deepEqual(body.allowed_mentions?.parse, []);
    assert.equal(body.allowed_mentions?.replied_user, false);
    assert.equal(body.message_reference?.message_id, first.id);

    await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "뭐 하고 있었어?",
      mentionsBot: true,
      username: "민수",
    });
    await until(() => world.generateRequests().length >= 2, "second Gemini call");
    assert.deepEqual(turns(world.generateRequests()[1]), [
      ["user", "민수: 안녕?"],
      ["model", "안녕, 나 소예야."],
      ["user", "민수: 뭐 하고 있었어?"],
    ]);
    assert.deepEqual(world.discord.invalidRequests, []);
  } finally {
    await world.close();
  }
});

Deno.test("a Discord 429 on the reply is waited out and retried, not dropped", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    world.gemini.reply("기다렸다가 보냈어.");
    world.discord.rateLimitNext("POST", new RegExp(`/channels/${CHANNEL}/messages$`), {
      retryAfterSeconds: 1,
    });
    await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "답장해줘",
      mentionsBot: true,
    });
    await until(() => world.botMessages(CHANNEL).at(-1) === "기다렸다가 보냈어.", "the reply");
    const posts = world.discord.requestsTo("POST", new RegExp(`/channels/${CHANNEL}/messages$`));
    assert.deepEqual(posts.map((r) => r.status), [429, 200]);
    assert.ok(posts[1].at - posts[0].at >= 900, "the retry came before retry-after elapsed");
    assert.deepEqual(world.discord.invalidRequests, []);
  } finally {
    await world.close();
  }
});

Deno.test("/status on a fresh bot says there is no latency yet, not NaN", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    const { id } = await world.discord.sendInteraction({
      channelId: CHANNEL,
      guildId: GUILD,
      name: "status",
    });
    await until(() => world.discord.interaction(id)?.original !== undefined, "the /status reply");
    const status = world.discord.interaction(id)!.original!.content;
    assert.match(status, /응답 시간 중앙값: 아직 없음/);
    assert.match(status, /key1: 이번 분 \d+회, 오늘 \d+회 남음/);
  } finally {
    await world.close();
  }
});

Deno.test("a key Gemini refuses is reported at start by its id, never by its value", async () => {
  const badKey = "AIza-refused-key-0000000000";
  const world = await World.create();
  try {
    const bot = await world.startBot({
      GEMINI_API_KEY: "",
      GEMINI_API_KEYS: `${badKey},${GEMINI_KEY}`,
    });
    await bot.waitForOutput(/Gemini key failed its start-up check/);
    const line = bot.output.split("\n").find((l) => l.includes("failed its start-up check"))!;
    assert.match(line, /key1/);
    assert.doesNotMatch(bot.output, new RegExp(badKey));
    // The good key still answers.
    world.gemini.reply("나머지 키로 대답했어.");
    await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "들려?",
      mentionsBot: true,
    });
    await until(() => world.botMessages(CHANNEL).at(-1) === "나머지 키로 대답했어.", "the reply");
  } finally {
    await world.close();
  }
});

Deno.test("a typing call whose connection breaks does not take the bot down", async () => {
  const world = await World.create();
  try {
    const bot = await world.startBot();
    world.discord.breakNext("POST", new RegExp(`/channels/${CHANNEL}/typing$`));
    world.gemini.reply("멀쩡해.");
    await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "괜찮아?",
      mentionsBot: true,
    });
    await until(() => world.botMessages(CHANNEL).at(-1) === "멀쩡해.", "the reply");
    const status = await Promise.race([bot.exited, new Promise((r) => setTimeout(r, 300, "up"))]);
    assert.equal(status, "up", `the bot died:\n${bot.output}`);
  } finally {
    await world.close();
  }
});

Deno.test("/summarize counts against the per-user limit like a chat line", async () => {
  const world = await World.create();
  try {
    await world.startBot({ USER_RATE_LIMIT: "1", USER_RATE_WINDOW_SECONDS: "60" });
    const user = "1400000000000000077";
    const first = await world.discord.sendInteraction({
      channelId: CHANNEL,
      guildId: GUILD,
      name: "summarize",
      userId: user,
    });
    await until(() => world.discord.interaction(first.id)?.original !== undefined, "first reply");
    assert.deepEqual(world.discord.interaction(first.id)!.callbackTypes, [5]);
    const second = await world.discord.sendInteraction({
      channelId: CHANNEL,
      guildId: GUILD,
      name: "summarize",
      userId: user,
    });
    await until(() => world.discord.interaction(second.id)?.original !== undefined, "the notice");
    const notice = world.discord.interaction(second.id)!;
    assert.deepEqual(notice.callbackTypes, [4]);
    assert.match(notice.original!.content, /너무 빨라\. \d+초만 쉬었다가/);
    assert.deepEqual(world.discord.invalidRequests, []);
  } finally {
    await world.close();
  }
});

Deno.test("a gateway closed for good (intent not enabled) stops the bot with a reason to act on", async () => {
  const world = await World.create();
  try {
    const bot = await world.startBot();
    world.discord.dropConnection(4014); // Disallowed intent(s)
    const status = await bot.exited;
    assert.equal(status.code, 70);
    assert.match(bot.output, /Message Content intent is enabled/);
  } finally {
    await world.close();
  }
});
