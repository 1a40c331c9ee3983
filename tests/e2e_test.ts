/**
 * End to end: the real bot, started through `main.ts` as `deno task start` does, against the fake
 * Discord (REST + gateway, every request held against Discord's OpenAPI spec) and the fake Gemini.
 */
import assert from "node:assert/strict";
import { until, World } from "./harness.ts";

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
    await until(() => botMessages(world, CHANNEL).at(-1) === "안녕, 나 소예야.", "the full reply");
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
    await until(() => world.gemini.requests.filter(isGenerate).length >= 2, "second Gemini call");
    const second = world.gemini.requests.filter(isGenerate)[1].body as {
      contents: { role: string; parts: { text: string }[] }[];
    };
    assert.deepEqual(
      second.contents.map((c) => [c.role, c.parts.map((p) => p.text).join("")]),
      [
        ["user", "민수: 안녕?"],
        ["model", "안녕, 나 소예야."],
        ["user", "민수: 뭐 하고 있었어?"],
      ],
    );
    assert.deepEqual(world.discord.invalidRequests, []);
  } finally {
    await world.close();
  }
});

function botMessages(world: World, channelId: string): string[] {
  return world.discord.messagesIn(channelId).filter((m) => m.author.bot && !m.deleted).map((m) =>
    m.content
  );
}

function isGenerate(r: { action: string }): boolean {
  return r.action === "generateContent" || r.action === "streamGenerateContent";
}

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
    await until(() => botMessages(world, CHANNEL).at(-1) === "기다렸다가 보냈어.", "the reply");
    const posts = world.discord.requestsTo("POST", new RegExp(`/channels/${CHANNEL}/messages$`));
    assert.deepEqual(posts.map((r) => r.status), [429, 200]);
    assert.ok(posts[1].at - posts[0].at >= 900, "the retry came before retry-after elapsed");
    assert.deepEqual(world.discord.invalidRequests, []);
  } finally {
    await world.close();
  }
});
