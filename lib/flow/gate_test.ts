import assert from "node:assert/strict";
import type { ChatMessage } from "../discord/adapter.ts";
import { SlidingWindowLimiter } from "./sliding_window_limiter.ts";
import { text } from "../text/strings_ko.ts";
import { gate, type GateContext } from "./gate.ts";

const BOT = "900000000000000009";

function message(content: string, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: "100000000000000001",
    channelId: "200000000000000002",
    guildId: "300000000000000003",
    content,
    authorId: "400000000000000004",
    authorName: "민수",
    authorIsBot: false,
    type: 0,
    mentionedUserIds: content.includes(`<@${BOT}>`) ? [BOT] : [],
    mentionedRoleIds: [],
    mentionsEveryone: false,
    ...extra,
  };
}

function context(extra: Partial<GateContext> = {}): GateContext {
  return {
    botId: BOT,
    stopping: false,
    limiter: new SlidingWindowLimiter({ limit: 2, windowMs: 60_000 }),
    now: 0,
    ...extra,
  };
}

Deno.test("gate begins a chat turn with the author's name and the line without the mention", () => {
  assert.deepEqual(gate(message(`<@${BOT}> 밥 먹었어?`), context()), {
    action: "chat",
    line: "민수: 밥 먹었어?",
    mentioned: true,
  });
});

Deno.test("gate ignores bots, webhooks, system messages and messages not for the bot", () => {
  const addressed = `<@${BOT}> 안녕`;
  assert.equal(gate(message(addressed, { authorIsBot: true }), context()).action, "ignore");
  assert.equal(gate(message(addressed, { webhookId: "5" }), context()).action, "ignore");
  assert.equal(gate(message(addressed, { type: 7 }), context()).action, "ignore");
  assert.equal(gate(message("그냥 잡담"), context()).action, "ignore");
});

Deno.test("gate answers a bare mention, help and a bad summary command with a fixed text", () => {
  assert.deepEqual(gate(message(`<@${BOT}>`), context()), {
    action: "reply",
    text: text.emptyMention,
  });
  assert.deepEqual(gate(message(text.textCommands.help), context()), {
    action: "reply",
    text: text.help,
  });
  const bad = gate(message(`${text.textCommands.summarize} 99999시간`), context());
  assert.equal(bad.action, "reply");
});

Deno.test("gate hands a summary command its request, mention or not", () => {
  const decision = gate(message(`${text.textCommands.summarize} 20분`), context());
  assert.equal(decision.action, "summary");
});

Deno.test("gate tells a user over the limit once, then ignores them until the window moves", () => {
  const ctx = context();
  const line = `<@${BOT}> 또`;
  assert.equal(gate(message(line), ctx).action, "chat");
  assert.equal(gate(message(line), ctx).action, "chat");
  const told = gate(message(line), ctx);
  assert.equal(told.action, "reply");
  assert.match(told.action === "reply" ? told.text : "", /초만 쉬었다가/);
  assert.equal(gate(message(line), ctx).action, "ignore");
  assert.equal(gate(message(line), { ...ctx, now: 60_001 }).action, "chat");
});

Deno.test("gate says the bot is restarting instead of beginning a turn while it stops", () => {
  assert.deepEqual(gate(message(`<@${BOT}> 안녕`), context({ stopping: true })), {
    action: "reply",
    text: text.stopping,
  });
});

Deno.test("gate answers a mention that brings only a file, or only a reply, as a chat", () => {
  const picture = {
    id: "1800000000000000001",
    filename: "cat.png",
    contentType: "image/png",
    size: 10,
    url: "https://cdn.discordapp.com/attachments/2/1/cat.png",
  };
  assert.deepEqual(gate(message(`<@${BOT}>`, { attachments: [picture] }), context()), {
    action: "chat",
    line: "민수: ",
    mentioned: true,
  });
  const replyReference = { channelId: "200000000000000002", messageId: "100000000000000000" };
  assert.deepEqual(gate(message(`<@${BOT}>`, { type: 19, replyReference }), context()), {
    action: "chat",
    line: "민수: ",
    mentioned: true,
  });
  assert.deepEqual(gate(message(`<@${BOT}>`, { attachments: [] }), context()), {
    action: "reply",
    text: text.emptyMention,
  });
});

Deno.test("gate answers every message in an always channel, but not an empty one or a bot's", () => {
  const always = context({ alwaysAnswer: true });
  assert.deepEqual(gate(message("그냥 하는 말"), always), {
    action: "chat",
    line: "민수: 그냥 하는 말",
    mentioned: false,
  });
  assert.deepEqual(gate(message(""), always), { action: "ignore" });
  assert.deepEqual(gate(message("봇이야", { authorIsBot: true }), always), { action: "ignore" });
  assert.deepEqual(gate(message("그냥 하는 말"), context()), { action: "ignore" });
});

Deno.test("gate tells a server that turned summaries off so, and still counts the command", () => {
  const off = context({ summariesOff: true });
  assert.deepEqual(gate(message("!요약"), off), { action: "reply", text: text.summariesOff });
  assert.deepEqual(gate(message("!요약 20분"), off), { action: "reply", text: text.summariesOff });
  // The limit (2) still applies: the third is told once to slow down.
  assert.equal((gate(message("!요약"), off) as { text: string }).text, text.rateLimited(60));
  assert.equal(gate(message("!요약"), context()).action, "summary");
});

Deno.test("gate() chats about a forward with no words of its own, in a DM and in an always channel", () => {
  const forwarded = { content: "회의는 세 시", attachments: [] };
  const dm = message("", { guildId: undefined, forwarded });
  assert.deepEqual(gate(dm, context()), { action: "chat", line: "민수: ", mentioned: true });
  const always = message("", { forwarded });
  assert.deepEqual(gate(always, context({ alwaysAnswer: true })), {
    action: "chat",
    line: "민수: ",
    mentioned: false,
  });
  assert.deepEqual(gate(message("", { guildId: undefined }), context()), {
    action: "reply",
    text: text.emptyMention,
  });
});
