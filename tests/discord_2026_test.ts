/**
 * The Discord of 2026, end to end (the real bot against the fake Discord): forwarded messages
 * (`message_snapshots`), signed attachment URLs that expire, and slash commands registered with
 * `contexts` and `integration_types`.
 */
import assert from "node:assert/strict";
import { attachmentText } from "../lib/text/strings_ko.ts";
import { type GenerateRequest } from "./fakes/fake_gemini.ts";
import { turns, until, World } from "./harness.ts";

const GUILD = "1300000000000000001";
const SOURCE = "1200000000000000071";
const CHANNEL = "1200000000000000072";
const DM = "1200000000000000073";
const FORWARDED = "내일 세 시에 회의실 B에서 모여요";

/** Answers with what the model was shown besides the user's words: the files' text. */
function responder(request: GenerateRequest): string {
  const files = request.attachments.map((a) => new TextDecoder().decode(a.bytes)).join(",");
  return files ? `파일 봤어: ${files}` : `응, "${request.lastUserText}" 말이지.`;
}

/** The text of every part of a request's last user turn. */
function lastUserTurn(
  request: { body: { contents: { role: string; parts: { text?: string }[] }[] } },
) {
  const last = request.body.contents.findLast((c) => c.role === "user")!;
  return last.parts.map((p) => p.text ?? "").join("\n");
}

Deno.test("forwarded messages reach the model: a reply to a forward, and a forward in a DM", async () => {
  const world = await World.create({ gemini: { responder } });
  try {
    await world.startBot();
    // Someone posts in another channel; 지수 forwards it here; 민수 replies to the forward.
    const original = await world.discord.sendUserMessage({
      channelId: SOURCE,
      guildId: GUILD,
      content: FORWARDED,
      username: "서연",
      authorId: "1200000000000000991",
    });
    const forward = await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "",
      forwardOf: original.id,
      username: "지수",
      authorId: "1200000000000000992",
    });
    assert.equal(forward.content, "", "a forward says nothing of its own");
    await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "이거 몇 시라고?",
      mentionsBot: true,
      replyToMessageId: forward.id,
    });
    await until(() => world.generateRequests().length === 1, "the reply's Gemini call");
    const [replyTurn] = turns(world.generateRequests()[0]).slice(-1);
    assert.match(replyTurn[1], new RegExp(`"${FORWARDED}"`), "not an empty quote");

    // A forward in a DM: nothing to mention, the forward is what is said.
    await world.discord.sendUserMessage({ channelId: DM, content: "", forwardOf: original.id });
    await until(() => world.generateRequests().length === 2, "the DM's Gemini call");
    const dmTurn = lastUserTurn(world.generateRequests()[1]);
    assert.match(dmTurn, new RegExp(`\\[전달한 메시지: "${FORWARDED}"\\]`));
    await until(() => world.botMessages(DM).length === 1, "the DM answer");
  } finally {
    await world.close();
  }
});

Deno.test("a forward's attachments follow the same rules: fetched from the snapshot and shown", async () => {
  const world = await World.create({ gemini: { responder } });
  try {
    await world.startBot();
    const original = await world.discord.sendUserMessage({
      channelId: SOURCE,
      guildId: GUILD,
      content: "메모",
      attachments: [{
        filename: "memo.txt",
        contentType: "text/plain",
        bytes: new TextEncoder().encode("memo-bytes"),
      }],
    });
    await world.discord.sendUserMessage({ channelId: DM, content: "", forwardOf: original.id });
    await until(() => world.botMessages(DM).length === 1, "the DM answer");
    assert.match(lastUserTurn(world.generateRequests()[0]), /memo-bytes/);
    assert.match(world.botMessages(DM)[0], /memo\.txt|파일 봤어/);
  } finally {
    await world.close();
  }
});

Deno.test("an expired attachment URL: the message is read once more for a fresh one, else the user is told", async () => {
  const world = await World.create({ gemini: { responder } });
  try {
    await world.startBot();
    const bytes = new TextEncoder().encode("fresh-bytes");
    await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "이 파일 봐",
      mentionsBot: true,
      attachments: [{ filename: "a.txt", contentType: "text/plain", bytes, expired: true }],
    });
    await until(() => world.botMessages(CHANNEL).length === 1, "the answer");
    assert.deepEqual(world.discord.cdnRequests.map((r) => r.status), [404, 200]);
    assert.match(lastUserTurn(world.generateRequests()[0]), /fresh-bytes/);

    // The replied-to message's links are dead and reading it again gives no better: that file is
    // left out (it is someone else's), the question is answered, and the model reads why.
    const old = await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "예전 파일",
      attachments: [{ filename: "old.txt", contentType: "text/plain", bytes }],
    });
    world.discord.expireAttachmentUrls(old.id, { refresh: false });
    const gets = (id: string) =>
      world.discord.requests.filter((r) => r.method === "GET" && r.path.endsWith(id)).length;
    await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "이거 뭐였지?",
      mentionsBot: true,
      replyToMessageId: old.id,
    });
    await until(() => world.botMessages(CHANNEL).length === 2, "the second answer");
    assert.equal(gets(old.id), 1, "read again once, not in a loop");
    assert.match(lastUserTurn(world.generateRequests()[1]), /old\.txt \(보이지 않음\)/);

    // The asker's own file is dead for good: read again once, then the asker is told by name.
    const own = await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "이것도 봐",
      mentionsBot: true,
      attachments: [{
        filename: "own.txt",
        contentType: "text/plain",
        bytes,
        expiredForGood: true,
      }],
    });
    await until(
      () => world.botMessages(CHANNEL).includes(attachmentText.expired("own.txt")),
      "the expired notice",
    );
    assert.equal(gets(own.id), 1, "read again once, not in a loop");
    assert.equal(world.generateRequests().length, 2, "no Gemini call for the third turn");
  } finally {
    await world.close();
  }
});

Deno.test("slash commands are registered with contexts and integration_types, never dm_permission", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    // The bot registers its commands after READY, which is when startBot returns.
    await until(() => world.discord.commands().length > 0, "the commands registered");
    const commands = world.discord.commands();
    for (const command of commands) {
      const registered = command as Record<string, unknown>;
      assert.equal(registered.dm_permission, undefined, `${registered.name}: dm_permission`);
      assert.deepEqual(registered.integration_types, [0], `${registered.name}: guild install`);
      const contexts = registered.contexts as number[];
      // /settings is for servers only; the rest work in DMs with the bot too.
      assert.deepEqual(contexts, registered.name === "settings" ? [0] : [0, 1]);
    }
    assert.equal(world.discord.invalidRequests.length, 0, "every request as the spec allows");
  } finally {
    await world.close();
  }
});
