/**
 * `/settings` end to end: the real bot process against the fake Discord (which holds every
 * request, the command registration included, against Discord's OpenAPI spec) and the fake
 * Gemini. Each setting is changed by an admin, refused to a member without Manage Server, applied
 * at the next message, shown by `/status`, and still in force after a restart.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ROOT, until, World } from "./harness.ts";
import { DATABASE_FILE } from "../lib/store/sqlite.ts";
import type { RecordedRequest as GeminiRequest } from "./fakes/fake_gemini.ts";
import { PERSONA } from "../lib/text/prompts.ts";
import { text } from "../lib/text/strings_ko.ts";

const GUILD_A = "1300000000000000001";
const GUILD_B = "1300000000000000002";
/** Manage Server (1 << 5) and the text permissions everyone has. */
const ADMIN = String((1n << 5n) | 2248473465835073n);
const FAST = { GEMINI_RPM: "1000", GEMINI_RPD: "100000" };

let nextId = 0n;
/** A fresh snowflake-shaped id, for a channel or a user no other step uses. */
function freshId(): string {
  return String(1400000000000000000n + ++nextId);
}

function botMessages(world: World, channelId: string): string[] {
  return world.discord.messagesIn(channelId)
    .filter((m) => m.author.id === world.discord.botId && !m.deleted)
    .map((m) => m.content);
}

/** The system instruction a generate request carried (its text), or undefined. */
function instructionOf(request: GeminiRequest): string | undefined {
  const instruction = request.body.systemInstruction as { parts?: { text: string }[] } | undefined;
  return instruction?.parts?.map((p) => p.text).join("");
}

/** True when a request carried the bot's default persona: as text, or through its cache. */
function hasDefaultPersona(request: GeminiRequest): boolean {
  return instructionOf(request) === PERSONA || typeof request.body.cachedContent === "string";
}

/** The generate request whose contents mention `marker`. */
function requestAbout(world: World, marker: string): GeminiRequest {
  const found = world.generateRequests().filter((r) =>
    JSON.stringify(r.body.contents).includes(marker)
  );
  assert.equal(found.length, 1, `one request about ${marker}`);
  return found[0];
}

async function interactionAnswer(world: World, id: string): Promise<string> {
  await until(
    () => (world.discord.interaction(id)?.original?.content ?? "") !== "",
    `interaction ${id} answered`,
  );
  return world.discord.interaction(id)!.original!.content;
}

/** An interaction's answer, and whether only its user saw it. */
async function settings(
  world: World,
  guildId: string | undefined,
  subcommand: string,
  options: { name: string; type: number; value: unknown }[],
  memberPermissions = ADMIN,
): Promise<{ answer: string; ephemeral: boolean }> {
  const { id } = await world.discord.sendInteraction({
    channelId: freshId(),
    ...(guildId ? { guildId, memberPermissions } : {}),
    name: "settings",
    subcommand,
    options,
  });
  const answer = await interactionAnswer(world, id);
  const callback = world.discord.requests.find((r) =>
    r.method === "POST" && r.path.startsWith(`/interactions/${id}/`)
  );
  const flags = (callback?.body as { data?: { flags?: number } })?.data?.flags ?? 0;
  return { answer, ephemeral: (flags & 64) !== 0 };
}

/** A user mentions the bot (or, with `mention` false, just talks) and the bot's reply comes. */
async function talk(
  world: World,
  guildId: string,
  channelId: string,
  content: string,
  options: { mention?: boolean } = {},
): Promise<void> {
  const before = botMessages(world, channelId).length;
  await world.discord.sendUserMessage({
    channelId,
    guildId,
    content,
    mentionsBot: options.mention ?? true,
    authorId: freshId(),
    username: "민수",
  });
  await until(() => botMessages(world, channelId).length > before, `a reply to ${content}`);
}

function assertNoInvalidRequests(world: World): void {
  assert.deepEqual(
    world.discord.invalidRequests.map((r) => `${r.method} ${r.path}: ${r.errors.join("; ")}`),
    [],
  );
}

Deno.test("/settings, end to end through the real bot", async (t) => {
  const world = await World.create();
  try {
    let bot = await world.startBot(FAST);
    const pirate = "너는 해적 선장이야. 모든 말을 '아하르!'로 시작해.";

    await t.step("/settings is registered for Manage Server, in servers only", async () => {
      await until(() => world.discord.commands().length > 0, "the commands registered");
      const registered = world.discord.commands().find((c) => c.name === "settings");
      assert.ok(registered, "settings is registered");
      assert.equal(String(registered.default_member_permissions), "32");
      assert.deepEqual(registered.contexts, [0]);
      const subcommands = (registered.options as { name: string; type: number }[])
        .map((o) => [o.name, o.type]);
      assert.deepEqual(subcommands, [
        ["persona", 1],
        ["channel", 1],
        ["summaries", 1],
        ["search", 1],
      ]);
      assertNoInvalidRequests(world);
    });

    await t.step("a member without Manage Server is refused and nothing changes", async () => {
      const refused = await settings(
        world,
        GUILD_A,
        "persona",
        [{ name: "text", type: 3, value: pirate }],
        "2248473465835073",
      );
      assert.deepEqual(refused, { answer: text.settings.refused, ephemeral: true });
      const dm = await settings(world, undefined, "summaries", [
        { name: "enabled", type: 5, value: false },
      ]);
      assert.equal(dm.answer, text.settings.guildOnly);
      const channel = freshId();
      await talk(world, GUILD_A, channel, "refused-check");
      assert.ok(hasDefaultPersona(requestAbout(world, "refused-check")));
    });

    const chatA = freshId();
    const chatB = freshId();
    await t.step(
      "an admin's persona applies to that server's next answer, not another's",
      async () => {
        const set = await settings(world, GUILD_A, "persona", [
          { name: "text", type: 3, value: pirate },
        ]);
        assert.deepEqual(set, {
          answer: text.settings.personaSet(pirate.length),
          ephemeral: false,
        });
        await talk(world, GUILD_A, chatA, "persona-a-1");
        await talk(world, GUILD_B, chatB, "persona-b-1");
        assert.equal(instructionOf(requestAbout(world, "persona-a-1")), pirate);
        assert.ok(hasDefaultPersona(requestAbout(world, "persona-b-1")));

        const tooLong = await settings(world, GUILD_B, "persona", [
          { name: "text", type: 3, value: "가".repeat(2501) },
        ]);
        assert.equal(tooLong.answer, text.settings.personaTooLong(2500, 2501));
        assertNoInvalidRequests(world);
      },
    );

    const always = freshId();
    await t.step("an always channel answers without a mention; others still need one", async () => {
      const set = await settings(world, GUILD_A, "channel", [
        { name: "channel", type: 7, value: always },
        { name: "mode", type: 3, value: "always" },
      ]);
      assert.equal(set.answer, text.settings.channelAlways(always));
      await talk(world, GUILD_A, always, "always-1", { mention: false });
      assert.ok(requestAbout(world, "always-1"));

      const quiet = freshId();
      await world.discord.sendUserMessage({
        channelId: quiet,
        guildId: GUILD_A,
        content: "quiet-1",
        authorId: freshId(),
      });
      await talk(world, GUILD_A, quiet, "quiet-2");
      assert.deepEqual(
        world.generateRequests().filter((r) => JSON.stringify(r.body.contents).includes("quiet-1")),
        [],
        "a channel in the default mode ignores a message without a mention",
      );
    });

    await t.step(
      "summaries off: !요약 and /summarize are told so, in that server only",
      async () => {
        const off = await settings(world, GUILD_A, "summaries", [
          { name: "enabled", type: 5, value: false },
        ]);
        assert.equal(off.answer, text.settings.summariesOff);
        const channel = freshId();
        await talk(world, GUILD_A, channel, "!요약", { mention: false });
        assert.deepEqual(botMessages(world, channel), [text.summariesOff]);
        const { id } = await world.discord.sendInteraction({
          channelId: channel,
          guildId: GUILD_A,
          name: "summarize",
        });
        assert.equal(await interactionAnswer(world, id), text.summariesOff);

        const elsewhere = freshId();
        await talk(world, GUILD_B, elsewhere, "!요약", { mention: false });
        assert.notEqual(botMessages(world, elsewhere)[0], text.summariesOff);
      },
    );

    await t.step("/status shows the server's settings", async () => {
      const { id } = await world.discord.sendInteraction({
        channelId: freshId(),
        guildId: GUILD_A,
        name: "status",
      });
      const status = await interactionAnswer(world, id);
      assert.match(status, new RegExp(`페르소나: 서버 전용 \\(${pirate.length}자\\)`));
      assert.match(status, new RegExp(`모든 메시지에 대답하는 채널: <#${always}>`));
      assert.match(status, /요약: 꺼짐/);
      const other = await world.discord.sendInteraction({
        channelId: freshId(),
        guildId: GUILD_B,
        name: "status",
      });
      const statusB = await interactionAnswer(world, other.id);
      assert.match(statusB, /페르소나: 기본/);
      assert.match(statusB, /요약: 켜짐/);
    });

    await t.step("every setting survives a restart", async () => {
      assert.equal((await bot.stop()).code, 0);
      bot = await world.startBot(FAST);
      await talk(world, GUILD_A, chatA, "persona-a-2");
      await talk(world, GUILD_B, chatB, "persona-b-2");
      assert.equal(instructionOf(requestAbout(world, "persona-a-2")), pirate);
      assert.ok(hasDefaultPersona(requestAbout(world, "persona-b-2")));
      await talk(world, GUILD_A, always, "always-2", { mention: false });
      const channel = freshId();
      await talk(world, GUILD_A, channel, "!요약", { mention: false });
      assert.deepEqual(botMessages(world, channel), [text.summariesOff]);
    });

    await t.step(
      "back to the defaults: persona without text, mention mode, summaries on",
      async () => {
        const reset = await settings(world, GUILD_A, "persona", []);
        assert.equal(reset.answer, text.settings.personaReset);
        await talk(world, GUILD_A, chatA, "persona-a-3");
        assert.ok(hasDefaultPersona(requestAbout(world, "persona-a-3")));

        await settings(world, GUILD_A, "channel", [
          { name: "channel", type: 7, value: always },
          { name: "mode", type: 3, value: "mention" },
        ]);
        await world.discord.sendUserMessage({
          channelId: always,
          guildId: GUILD_A,
          content: "always-3",
          authorId: freshId(),
        });
        await talk(world, GUILD_A, always, "always-4");
        assert.equal(
          world.generateRequests().filter((r) =>
            JSON.stringify(r.body.contents).includes("always-3")
          )
            .length,
          0,
        );
        const on = await settings(world, GUILD_A, "summaries", [
          { name: "enabled", type: 5, value: true },
        ]);
        assert.equal(on.answer, text.settings.summariesOn);
        assertNoInvalidRequests(world);
      },
    );
  } finally {
    await world.close();
  }
});

Deno.test("/settings takes only a channel of its own server: another server's admin can't change it", async () => {
  const world = await World.create();
  try {
    await world.startBot(FAST);
    const always = freshId();
    const set = await settings(world, GUILD_A, "channel", [
      { name: "channel", type: 7, value: always },
      { name: "mode", type: 3, value: "always" },
    ]);
    assert.equal(set.answer, text.settings.channelAlways(always));
    // An admin of B names A's channel: Discord resolves it as A's.
    const { id } = await world.discord.sendInteraction({
      channelId: freshId(),
      guildId: GUILD_B,
      memberPermissions: ADMIN,
      name: "settings",
      subcommand: "channel",
      options: [
        { name: "channel", type: 7, value: always },
        { name: "mode", type: 3, value: "mention" },
      ],
      channelGuilds: { [always]: GUILD_A },
    });
    assert.equal(await interactionAnswer(world, id), text.settings.otherServerChannel);
    // A's channel still answers every message.
    await talk(world, GUILD_A, always, "still-always", { mention: false });
    assertNoInvalidRequests(world);
  } finally {
    await world.close();
  }
});

Deno.test("/settings waiting for a database another connection holds leaves the bot running", async () => {
  const world = await World.create();
  let other: DatabaseSync | undefined;
  try {
    const bot = await world.startBot({ ...FAST, HTTP_PORT: "0" });
    const pattern = /Operations endpoints on http:\/\/([\d.]+):(\d+)\//;
    await bot.waitForOutput(pattern);
    const [, host, port] = bot.output.match(pattern)!;
    other = new DatabaseSync(`${ROOT}${world.dataDir}/${DATABASE_FILE}`);
    other.exec("BEGIN IMMEDIATE");
    const { id } = await world.discord.sendInteraction({
      channelId: freshId(),
      guildId: GUILD_A,
      memberPermissions: ADMIN,
      name: "settings",
      subcommand: "persona",
      options: [{ name: "text", type: 3, value: "너는 해적이야." }],
    });
    // While the lock is held the bot defers the interaction (a timer on its event loop) and
    // answers /healthz; a write on the event loop would hold both back until SQLite gave up.
    await until(
      () =>
        world.discord.requests.some((r) =>
          r.method === "POST" && r.path.startsWith(`/interactions/${id}/`)
        ),
      "the interaction deferred while the lock is held",
      4_500,
    );
    const health = await fetch(`http://${host}:${port}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    other.exec("COMMIT");
    other.close();
    other = undefined;
    assert.equal(
      await interactionAnswer(world, id),
      text.settings.personaSet("너는 해적이야.".length),
    );
  } finally {
    other?.close();
    await world.close();
  }
});

Deno.test("a spent day is said once in an always channel, then only to a mention", async () => {
  const world = await World.create();
  try {
    // One request a day: the first message spends it.
    await world.startBot({ ...FAST, GEMINI_RPD: "1", USER_RATE_LIMIT: "1000" });
    const always = freshId();
    await settings(world, GUILD_A, "channel", [
      { name: "channel", type: 7, value: always },
      { name: "mode", type: 3, value: "always" },
    ]);
    world.gemini.reply("오늘 첫 대답.");
    await talk(world, GUILD_A, always, "첫 말", { mention: false });
    await talk(world, GUILD_A, always, "둘째 말", { mention: false });
    const notice = botMessages(world, always).at(-1)!;
    assert.notEqual(notice, "오늘 첫 대답.");
    // Nine more ordinary messages: quiet. Then one that mentions the bot: told again.
    for (let i = 0; i < 9; i++) {
      await world.discord.sendUserMessage({
        channelId: always,
        guildId: GUILD_A,
        content: `그냥 말 ${i}`,
        authorId: freshId(),
        username: "민수",
      });
    }
    await talk(world, GUILD_A, always, "소예야 왜 조용해?");
    assert.deepEqual(botMessages(world, always), ["오늘 첫 대답.", notice, notice]);
  } finally {
    await world.close();
  }
});
