/**
 * The stop button ("그만"), end to end: the real bot process (`deno run -P=bot main.ts`) against
 * the fake Discord, which holds every request against Discord's OpenAPI spec and delivers a
 * button press as Discord does (INTERACTION_CREATE of type 3), and the fake Gemini, which notes
 * when a stream's reader went away.
 */
import assert from "node:assert/strict";
import { delay, until, World } from "./harness.ts";
import type { RecordedRequest as DiscordRequest, StoredMessage } from "./fakes/fake_discord.ts";
import type { RecordedRequest as GeminiRequest } from "./fakes/fake_gemini.ts";
import { text } from "../lib/text/strings_ko.ts";

const GUILD = "1300000000000000001";
const FAST = { GEMINI_RPM: "1000", GEMINI_RPD: "100000" };
/** Manage Messages (1 << 13) and nothing else. */
const MANAGE_MESSAGES = String(1n << 13n);
/** Send Messages and Read Message History only: no Manage Messages. */
const MEMBER = String((1n << 11n) | (1n << 16n));

let nextId = 0n;
/** A fresh snowflake-shaped id, for a channel or a user no other step uses. */
function freshId(): string {
  return String(1400000000000000000n + ++nextId);
}

/** The bot's own messages in a channel (interaction responses left out), oldest first. */
function botMessagesIn(world: World, channelId: string): StoredMessage[] {
  return world.discord.messagesIn(channelId)
    .filter((m) => m.author.id === world.discord.botId && !m.deleted && !m.interaction_metadata);
}

function buttonsOn(message: StoredMessage): string[] {
  const rows = (message.components ?? []) as { components: { custom_id: string }[] }[];
  return rows.flatMap((row) => row.components.map((c) => c.custom_id));
}

function generateRequestsAbout(world: World, marker: string): GeminiRequest[] {
  return world.generateRequests().filter((r) => JSON.stringify(r.body.contents).includes(marker));
}

function editsOf(world: World, channelId: string, messageId: string): DiscordRequest[] {
  return world.discord.requestsTo(
    "PATCH",
    new RegExp(`^/channels/${channelId}/messages/${messageId}$`),
  );
}

/** A long answer streamed slowly: 30 chunks, 300 ms apart. */
function slowAnswer(marker: string): string {
  return Array.from({ length: 30 }, (_, i) => `${marker} 문장 ${i + 1}번이야. `).join("");
}

Deno.test("the stop button, end to end through the real bot", async (t) => {
  const world = await World.create();
  try {
    await world.startBot(FAST);

    await t.step(
      "a press by the asker ends the Gemini call within 1 s; the shown text stays, marked, and is what the window keeps",
      async () => {
        const channelId = freshId();
        const askerId = freshId();
        world.gemini.script({ text: slowAnswer("바다"), chunks: 30, chunkDelayMs: 300 });
        const asked = await world.discord.sendUserMessage({
          channelId,
          guildId: GUILD,
          content: "바다 얘기 길게 해줘",
          mentionsBot: true,
          authorId: askerId,
          username: "민수",
        });
        // The answer streams with one button on it, naming this turn and its asker.
        await until(() => {
          const [first] = botMessagesIn(world, channelId);
          return first !== undefined && buttonsOn(first).length === 1 &&
            first.content.includes("문장 3번");
        }, "the answer streaming with its button");
        const [answer] = botMessagesIn(world, channelId);
        assert.deepEqual(buttonsOn(answer), [`stop:${asked.id}:${askerId}`]);
        const label = (answer.components as { components: { label: string }[] }[])[0]
          .components[0].label;
        assert.equal(label, text.stopButton);

        // Someone else, without Manage Messages: refused, only they see it, the answer goes on.
        const stranger = world.discord.pressButton({
          messageId: answer.id,
          userId: freshId(),
          memberPermissions: MEMBER,
        });
        await until(
          () => world.discord.interaction(stranger.id)?.original !== undefined,
          "refusal",
        );
        const refusal = world.discord.interaction(stranger.id)!;
        assert.deepEqual(refusal.callbackTypes, [4]);
        assert.equal(refusal.original!.content, text.stopRefused);
        assert.equal(refusal.original!.flags & 64, 64, "the refusal is ephemeral");
        const [call] = generateRequestsAbout(world, "바다 얘기");
        assert.equal(call.bodyEnd, undefined, "the refused press did not stop the call");
        assert.ok(!botMessagesIn(world, channelId)[0].content.endsWith(text.stoppedMark));

        // The asker presses it.
        const requestsBefore = world.generateRequests().length - 1;
        const pressedAt = Date.now();
        const press = world.discord.pressButton({ messageId: answer.id, userId: askerId });
        await until(
          () => botMessagesIn(world, channelId)[0].content.endsWith(text.stoppedMark),
          "the answer marked as stopped",
        );
        const markedAt = Date.now();
        assert.ok(markedAt - pressedAt < 1000, `marked ${markedAt - pressedAt} ms after the press`);
        // Gemini's stream is closed by the bot, not read on in the background (Deno's fetch
        // forgets an abort once a GC ran; the bot runs with a 1 MB semi-space, so GCs are many).
        await until(() => call.bodyEnd !== undefined, "the Gemini stream ended");
        assert.equal(call.bodyEnd!.how, "cancelled");
        assert.ok(
          call.bodyEnd!.at - pressedAt < 1000,
          `Gemini's stream ended ${call.bodyEnd!.at - pressedAt} ms after the press`,
        );
        // The call is over: nothing more is shown.
        const markedText = botMessagesIn(world, channelId)[0].content;
        await delay(700);
        assert.equal(botMessagesIn(world, channelId)[0].content, markedText);
        assert.equal(world.generateRequests().length, requestsBefore + 1, "no retry after a stop");
        // Acknowledged quietly, once, well inside Discord's 3 s.
        assert.deepEqual(world.discord.interaction(press.id)!.callbackTypes, [6]);
        const [ack] = world.discord.requestsTo("POST", new RegExp(`^/interactions/${press.id}/`));
        assert.ok(ack.at - pressedAt < 3000, `answered ${ack.at - pressedAt} ms after the press`);

        // The button rode on an edit that brought new text, and came off with the final edit:
        // no request of its own.
        const stopped = botMessagesIn(world, channelId)[0];
        assert.deepEqual(buttonsOn(stopped), []);
        const edits = editsOf(world, channelId, answer.id);
        const last = edits.at(-1)!.body as { content: string; components?: unknown[] };
        assert.deepEqual(last.components, []);
        assert.equal(last.content, stopped.content);
        const touching = edits.filter((e) =>
          (e.body as { components?: unknown }).components !== undefined
        );
        assert.equal(touching.length, 2, "one edit put the button on, the final one took it off");
        const [first] = world.discord.requestsTo("POST", new RegExp(`/channels/${channelId}/`))
          .filter((r) => (r.body as { content?: string }).content !== undefined);
        assert.equal(
          (first.body as { components?: unknown }).components,
          undefined,
          "posts carry none",
        );
        const putOn = touching[0].body as { content: string };
        const before = edits.indexOf(touching[0]) === 0
          ? (first.body as { content: string }).content
          : (edits[edits.indexOf(touching[0]) - 1].body as { content: string }).content;
        assert.notEqual(putOn.content, before, "the button came with new text");
        const shownText = stopped.content.slice(0, -text.stoppedMark.length).trimEnd();
        assert.ok(shownText.length > 0 && !shownText.includes("문장 30번"), "cut partway");

        // The asker goes on, and the window holds exactly what was shown.
        await world.discord.sendUserMessage({
          channelId,
          guildId: GUILD,
          content: "고마워, 이어서 산 얘기",
          mentionsBot: true,
          authorId: askerId,
          username: "민수",
        });
        await until(() => botMessagesIn(world, channelId).length >= 2, "the next answer");
        assert.equal(generateRequestsAbout(world, "이어서 산 얘기").length, 1);
        const [next] = generateRequestsAbout(world, "이어서 산 얘기");
        const contents = next.body.contents as { role: string; parts: { text?: string }[] }[];
        const model = contents.filter((c) => c.role === "model");
        assert.equal(model.length, 1);
        assert.equal(model[0].parts.map((p) => p.text ?? "").join(""), shownText);
        assert.equal(world.discord.invalidRequests.length, 0);
      },
    );

    await t.step("a member with Manage Messages may stop another's answer", async () => {
      const channelId = freshId();
      world.gemini.script({ text: slowAnswer("하늘"), chunks: 30, chunkDelayMs: 300 });
      await world.discord.sendUserMessage({
        channelId,
        guildId: GUILD,
        content: "하늘 얘기 길게",
        mentionsBot: true,
        authorId: freshId(),
        username: "지수",
      });
      await until(
        () => buttonsOn(botMessagesIn(world, channelId)[0] ?? ({} as StoredMessage)).length > 0,
        "the button",
      );
      const [answer] = botMessagesIn(world, channelId);
      const press = world.discord.pressButton({
        messageId: answer.id,
        userId: freshId(),
        memberPermissions: MANAGE_MESSAGES,
      });
      await until(
        () => botMessagesIn(world, channelId)[0].content.endsWith(text.stoppedMark),
        "the answer stopped by a moderator",
      );
      assert.deepEqual(world.discord.interaction(press.id)!.callbackTypes, [6]);
    });

    await t.step("a press after the answer finished is acknowledged quietly", async () => {
      const channelId = freshId();
      const askerId = freshId();
      world.gemini.script({ text: slowAnswer("별"), chunks: 4, chunkDelayMs: 200 });
      await world.discord.sendUserMessage({
        channelId,
        guildId: GUILD,
        content: "별 얘기",
        mentionsBot: true,
        authorId: askerId,
        username: "민수",
      });
      await until(
        () => buttonsOn(botMessagesIn(world, channelId)[0] ?? ({} as StoredMessage)).length > 0,
        "the button",
      );
      const [answer] = botMessagesIn(world, channelId);
      await until(
        () => botMessagesIn(world, channelId)[0].content.includes("문장 30번"),
        "the whole answer",
      );
      await until(() => buttonsOn(botMessagesIn(world, channelId)[0]).length === 0, "no button");
      const finalText = botMessagesIn(world, channelId)[0].content;
      const editsBefore = editsOf(world, channelId, answer.id).length;
      // The button is gone, but a client may still show it for a moment: press the old one.
      const customId = `stop:${
        world.discord.messagesIn(channelId).find((m) => m.author.id === askerId)!.id
      }:${askerId}`;
      const press = world.discord.pressButton({ messageId: answer.id, userId: askerId, customId });
      await until(
        () => (world.discord.interaction(press.id)?.callbackTypes.length ?? 0) > 0,
        "the late press answered",
      );
      assert.deepEqual(world.discord.interaction(press.id)!.callbackTypes, [6]);
      assert.equal(botMessagesIn(world, channelId)[0].content, finalText);
      assert.equal(editsOf(world, channelId, answer.id).length, editsBefore);
    });
  } finally {
    await world.close();
  }
});

Deno.test("a stop button's custom_id can't be forged: the running turn's own asker and channel decide", async () => {
  const world = await World.create();
  try {
    await world.startBot(FAST);
    // A moderator's channel elsewhere, with an answer of the bot's in it to press on.
    const otherChannel = freshId();
    world.gemini.reply("다른 방 답이야.");
    await world.discord.sendUserMessage({
      channelId: otherChannel,
      guildId: "1300000000000000002",
      content: "안녕",
      mentionsBot: true,
      authorId: freshId(),
    });
    await until(() => botMessagesIn(world, otherChannel).length === 1, "the other answer");
    const [elsewhere] = botMessagesIn(world, otherChannel);

    const channelId = freshId();
    const askerId = freshId();
    world.gemini.script({ text: slowAnswer("강"), chunks: 30, chunkDelayMs: 300 });
    const asked = await world.discord.sendUserMessage({
      channelId,
      guildId: GUILD,
      content: "강 얘기 길게 해줘",
      mentionsBot: true,
      authorId: askerId,
    });
    await until(
      () => buttonsOn(botMessagesIn(world, channelId)[0] ?? ({} as StoredMessage)).length > 0,
      "the button",
    );
    const [answer] = botMessagesIn(world, channelId);

    // A stranger names themself as the asker in the custom_id of this answer's button.
    const stranger = freshId();
    const forged = world.discord.pressButton({
      messageId: answer.id,
      userId: stranger,
      memberPermissions: MEMBER,
      customId: `stop:${asked.id}:${stranger}`,
    });
    // A moderator of another server presses a button there naming this turn.
    const remote = world.discord.pressButton({
      messageId: elsewhere.id,
      userId: freshId(),
      memberPermissions: MANAGE_MESSAGES,
      customId: `stop:${asked.id}:${askerId}`,
    });
    await until(
      () =>
        (world.discord.interaction(forged.id)?.callbackTypes.length ?? 0) > 0 &&
        (world.discord.interaction(remote.id)?.callbackTypes.length ?? 0) > 0,
      "both presses answered",
    );
    assert.deepEqual(world.discord.interaction(forged.id)!.callbackTypes, [4]);
    assert.deepEqual(world.discord.interaction(remote.id)!.callbackTypes, [4]);
    const [call] = generateRequestsAbout(world, "강 얘기");
    await delay(500);
    assert.equal(call.bodyEnd, undefined, "a forged press stopped the call");
    assert.ok(!botMessagesIn(world, channelId)[0].content.endsWith(text.stoppedMark));
  } finally {
    await world.close();
  }
});
