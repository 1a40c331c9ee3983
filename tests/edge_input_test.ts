/**
 * Untrusted input at the Discord edge, through the real bot process: ids that would steer a URL,
 * interactions the bot must still answer in time, and what counts as addressing the bot.
 *
 * One World and one bot serve every step; each step uses its own channels and users.
 */
import assert from "node:assert/strict";
import { until, World } from "./harness.ts";
import type { RecordedRequest as DiscordRequest } from "./fakes/fake_discord.ts";
import type { RecordedRequest as GeminiRequest } from "./fakes/fake_gemini.ts";
import { text } from "../lib/text/strings_ko.ts";

const GUILD = "1300000000000000001";
/** Enough Gemini quota that no step waits for a minute window. */
const FAST = { GEMINI_RPM: "1000", GEMINI_RPD: "100000" };
/** Discord drops an interaction that gets no callback within this. */
const INTERACTION_DEADLINE_MS = 3_000;
const EPHEMERAL = 1 << 6;
const FENCE = "```";

let nextId = 0n;
/** A fresh snowflake-shaped id, for a channel or a user no other step uses. */
function freshId(): string {
  return String(1400000000000000000n + ++nextId);
}

/** The last user turn of each generate request, in order. */
function userTexts(world: World): string[] {
  return world.generateRequests().map((r: GeminiRequest) => {
    const contents = r.body.contents as { role: string; parts: { text: string }[] }[];
    return contents.at(-1)!.parts.map((p) => p.text).join("");
  });
}

/** The first successful callback for interaction `id`, waited for past Discord's deadline. */
async function callbackOf(world: World, id: string): Promise<DiscordRequest> {
  const path = new RegExp(`^/interactions/${id}/[^/]+/callback$`);
  return await world.discord.waitForRequest(
    (r) => r.method === "POST" && path.test(r.path) && r.status < 300,
    INTERACTION_DEADLINE_MS + 2_000,
  );
}

function callbackData(request: DiscordRequest): { content?: string; flags?: number } {
  return (request.body as { data?: { content?: string; flags?: number } }).data ?? {};
}

Deno.test("untrusted input at the Discord edge, through the real bot", async (t) => {
  const world = await World.create();
  try {
    const bot = await world.startBot(FAST);
    const botId = world.discord.botId;

    await t.step(
      "a MESSAGE_CREATE whose ids are paths makes no request; others are answered",
      async () => {
        const before = world.discord.requests.length;
        const evil = (overrides: Record<string, unknown>) => ({
          id: freshId(),
          channel_id: freshId(),
          guild_id: GUILD,
          author: {
            id: freshId(),
            username: "mallory",
            discriminator: "0",
            global_name: null,
            avatar: null,
          },
          content: `<@${botId}> 안녕`,
          timestamp: new Date().toISOString(),
          edited_timestamp: null,
          tts: false,
          mention_everyone: false,
          mentions: [world.discord.botUser],
          mention_roles: [],
          attachments: [],
          embeds: [],
          pinned: false,
          type: 0,
          flags: 0,
          ...overrides,
        });
        world.discord.dispatch("MESSAGE_CREATE", evil({ channel_id: "../../users/@me" }));
        world.discord.dispatch("MESSAGE_CREATE", evil({ channel_id: `${freshId()}/../../guilds` }));
        world.discord.dispatch("MESSAGE_CREATE", evil({ guild_id: "../x" }));
        world.discord.dispatch("INTERACTION_CREATE", {
          id: freshId(),
          application_id: world.discord.applicationId,
          type: 2,
          token: "x/../../../../users/@me",
          channel_id: freshId(),
          data: { id: freshId(), name: "help", type: 1 },
          user: { id: freshId(), username: "mallory", discriminator: "0", avatar: null },
          version: 1,
        });

        const good = freshId();
        await world.discord.sendUserMessage({
          channelId: good,
          guildId: GUILD,
          content: "정상 질문",
          mentionsBot: true,
          authorId: freshId(),
          username: "민수",
        });
        await until(
          () => world.botMessages(good).at(-1) === '응, "민수: 정상 질문" 말이지.',
          "the answer in the good channel",
        );
        const expected = new RegExp(`^/channels/${good}/|^/applications/${botId}/`);
        const stray = world.discord.requests.slice(before).filter((r) => !expected.test(r.path));
        assert.deepEqual(stray.map((r) => `${r.method} ${r.path}`), []);
        assert.deepEqual(userTexts(world), ["민수: 정상 질문"]);
        await bot.waitForOutput(/"event":"MESSAGE_CREATE","reason":"channel_id not a Discord id"/);
        assert.doesNotMatch(bot.output, /users\/@me/);
      },
    );

    await t.step(
      "an unknown (stale) command gets an ephemeral Korean answer within 3 s",
      async () => {
        const sentAt = Date.now();
        const { id } = await world.discord.sendInteraction({
          channelId: freshId(),
          guildId: GUILD,
          name: "ask",
          userId: freshId(),
        });
        const callback = await callbackOf(world, id);
        assert.ok(callback.at - sentAt < INTERACTION_DEADLINE_MS, `${callback.at - sentAt} ms`);
        assert.equal((callback.body as { type: number }).type, 4);
        assert.deepEqual(callbackData(callback).content, text.commandUnknown);
        assert.equal(callbackData(callback).flags, EPHEMERAL);
      },
    );

    await t.step("a command without channel_id gets an answer within 3 s", async () => {
      const sentAt = Date.now();
      const { id } = await world.discord.sendInteraction({
        channelId: freshId(),
        guildId: GUILD,
        name: "reset",
        userId: freshId(),
        omitChannelId: true,
      });
      const callback = await callbackOf(world, id);
      assert.ok(callback.at - sentAt < INTERACTION_DEADLINE_MS, `${callback.at - sentAt} ms`);
      assert.equal(callbackData(callback).content, text.commandNeedsChannel);
    });

    await t.step(
      "a command whose handler fails before answering is still answered in 3 s",
      async () => {
        // Discord answers the handler's own reply with a 500, so /help throws before responding.
        world.discord.failNext("POST", /^\/interactions\/\d+\/[^/]+\/callback$/, 500);
        const sentAt = Date.now();
        const { id } = await world.discord.sendInteraction({
          channelId: freshId(),
          guildId: GUILD,
          name: "help",
          userId: freshId(),
        });
        const callback = await callbackOf(world, id);
        assert.ok(callback.at - sentAt < INTERACTION_DEADLINE_MS, `${callback.at - sentAt} ms`);
        const attempts = world.discord.requestsTo("POST", new RegExp(`^/interactions/${id}/`));
        assert.deepEqual(attempts.map((r) => r.status), [500, 204]);
        assert.equal(callbackData(callback).content, text.commandFailed);
        await bot.waitForOutput(/"message":"Command \\"help\\" failed/);
      },
    );

    await t.step(
      "mentioning the bot's managed role addresses the bot, and is stripped",
      async () => {
        const roleGuild = freshId();
        const role = freshId();
        assert.notEqual(
          world.discord.joinGuild({
            guildId: roleGuild,
            botRoleId: role,
            otherRoleIds: [freshId()],
          }),
          undefined,
          "the bot identified without the Guilds intent",
        );
        const channel = freshId();
        // Discord lists the role in mention_roles when the mention pinged.
        await world.discord.sendUserMessage({
          channelId: channel,
          guildId: roleGuild,
          content: `<@&${role}> 역할로 불렀어`,
          mentionRoles: [role],
          authorId: freshId(),
          username: "민수",
        });
        await until(() => world.botMessages(channel).length > 0, "an answer to the role mention");
        assert.equal(userTexts(world).at(-1), "민수: 역할로 불렀어");

        // A role made after joining (GUILD_ROLE_CREATE); not mentionable, so only the text says it.
        const laterGuild = freshId();
        const laterRole = freshId();
        world.discord.dispatch("GUILD_ROLE_CREATE", {
          guild_id: laterGuild,
          role: { id: laterRole, name: "SoyeBot", managed: true, tags: { bot_id: botId } },
        });
        const other = freshId();
        await world.discord.sendUserMessage({
          channelId: other,
          guildId: laterGuild,
          content: `<@&${laterRole}> 나중에 생긴 역할`,
          authorId: freshId(),
          username: "지은",
        });
        await until(() => world.botMessages(other).length > 0, "an answer to the later role");
        assert.equal(userTexts(world).at(-1), "지은: 나중에 생긴 역할");
      },
    );

    await t.step(
      "a mention of the bot inside the user's code block reaches the model",
      async () => {
        const channel = freshId();
        const code = `${FENCE}js\nchannel.send("<@${botId}> 안녕");\n${FENCE}`;
        await world.discord.sendUserMessage({
          channelId: channel,
          guildId: GUILD,
          content: `이 코드 왜 안 돼?\n${code}`,
          mentionsBot: true,
          authorId: freshId(),
          username: "민수",
        });
        await until(() => world.botMessages(channel).length > 0, "an answer about the code");
        assert.equal(userTexts(world).at(-1), `민수: 이 코드 왜 안 돼?\n${code}`);
      },
    );

    assert.deepEqual(
      world.discord.invalidRequests.map((r) => `${r.method} ${r.path}: ${r.errors.join("; ")}`),
      [],
    );
  } finally {
    await world.close();
  }
});
