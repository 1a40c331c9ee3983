import { strictEqual } from "node:assert/strict";
import { type IncomingMessage, shouldAnswer, stripMention } from "./mention.ts";

const BOT = "1100000000000000001";
const USER = "2200000000000000002";
const OTHER = "3300000000000000003";
const GUILD = "4400000000000000004";
/** The bot's managed role in GUILD. */
const BOT_ROLE = "5500000000000000005";
const OTHER_ROLE = "6600000000000000006";

/** A person's plain message in a server channel, addressed to nobody. */
const message = (overrides: Partial<IncomingMessage> = {}): IncomingMessage => ({
  content: "오늘 점심 뭐 먹지",
  authorId: USER,
  authorIsBot: false,
  type: 0,
  mentionedUserIds: [],
  mentionedRoleIds: [],
  mentionsEveryone: false,
  guildId: GUILD,
  ...overrides,
});

Deno.test("shouldAnswer() answers a direct mention in the content", () => {
  strictEqual(shouldAnswer(message({ content: `<@${BOT}> 안녕` }), BOT), true);
  strictEqual(shouldAnswer(message({ content: `안녕 <@!${BOT}>` }), BOT), true);
});

Deno.test("shouldAnswer() answers a mention listed only in mentionedUserIds", () => {
  strictEqual(shouldAnswer(message({ mentionedUserIds: [OTHER, BOT] }), BOT), true);
});

Deno.test("shouldAnswer() answers a reply to the bot, pinged or not", () => {
  strictEqual(shouldAnswer(message({ type: 19, replyToAuthorId: BOT }), BOT), true);
  strictEqual(
    shouldAnswer(message({ type: 19, replyToAuthorId: BOT, mentionedUserIds: [BOT] }), BOT),
    true,
  );
});

Deno.test("shouldAnswer() answers a person's DM without a mention", () => {
  strictEqual(shouldAnswer(message({ guildId: undefined }), BOT), true);
});

Deno.test("shouldAnswer() ignores a server message addressed to nobody", () => {
  strictEqual(shouldAnswer(message(), BOT), false);
});

Deno.test("shouldAnswer() ignores mentions of and replies to someone else", () => {
  strictEqual(
    shouldAnswer(message({ content: `<@${OTHER}> 봐봐`, mentionedUserIds: [OTHER] }), BOT),
    false,
  );
  strictEqual(shouldAnswer(message({ type: 19, replyToAuthorId: OTHER }), BOT), false);
});

Deno.test("shouldAnswer() ignores @everyone and @here without a direct mention", () => {
  strictEqual(
    shouldAnswer(message({ content: "@everyone 공지", mentionsEveryone: true }), BOT),
    false,
  );
  strictEqual(shouldAnswer(message({ content: "@here 회의", mentionsEveryone: true }), BOT), false);
  strictEqual(
    shouldAnswer(
      message({
        content: `@everyone <@${BOT}> 요약`,
        mentionsEveryone: true,
        mentionedUserIds: [BOT],
      }),
      BOT,
    ),
    true,
  );
});

Deno.test("shouldAnswer() ignores bots, itself and webhooks, even when they mention it", () => {
  const mentioned = { content: `<@${BOT}> 안녕`, mentionedUserIds: [BOT] };
  strictEqual(
    shouldAnswer(message({ ...mentioned, authorIsBot: true, authorId: OTHER }), BOT),
    false,
  );
  strictEqual(shouldAnswer(message({ ...mentioned, authorId: BOT }), BOT), false);
  strictEqual(shouldAnswer(message({ ...mentioned, webhookId: OTHER }), BOT), false);
  strictEqual(shouldAnswer(message({ guildId: undefined, authorIsBot: true }), BOT), false);
});

Deno.test("shouldAnswer() ignores system messages such as joins and pins", () => {
  for (const type of [1, 6, 7, 8, 18, 20, 21]) {
    strictEqual(
      shouldAnswer(message({ type, mentionedUserIds: [BOT] }), BOT),
      false,
      `type ${type}`,
    );
  }
});

Deno.test("stripMention() removes leading, trailing and inner mentions of the bot", () => {
  strictEqual(stripMention(`<@${BOT}> 오늘 날씨 어때?`, BOT), "오늘 날씨 어때?");
  strictEqual(stripMention(`오늘 날씨 어때? <@!${BOT}>`, BOT), "오늘 날씨 어때?");
  strictEqual(
    stripMention(`오늘 <@${BOT}>  날씨 <@!${BOT}><@${BOT}> 어때?`, BOT),
    "오늘 날씨 어때?",
  );
});

Deno.test("stripMention() gives an empty string for a bare mention", () => {
  strictEqual(stripMention(`  <@${BOT}>  `, BOT), "");
});

Deno.test("stripMention() keeps other users' mentions", () => {
  strictEqual(stripMention(`<@${BOT}> <@${OTHER}> 누구야?`, BOT), `<@${OTHER}> 누구야?`);
});

Deno.test("stripMention() keeps line breaks and code indentation", () => {
  const content = `<@${BOT}>\n이 코드 봐줘\n\`\`\`py\ndef f():\n    return  1\n\`\`\``;
  strictEqual(stripMention(content, BOT), "이 코드 봐줘\n```py\ndef f():\n    return  1\n```");
  strictEqual(stripMention(`첫 줄\n<@${BOT}>\n둘째 줄`, BOT), "첫 줄\n\n둘째 줄");
});

Deno.test("stripMention() keeps a mention of the bot written inside the user's code", () => {
  const block = `<@${BOT}> 이 코드 왜 안 돼?\n\`\`\`ts\nsend("<@${BOT}> hi");\n\`\`\``;
  strictEqual(
    stripMention(block, BOT),
    `이 코드 왜 안 돼?\n\`\`\`ts\nsend("<@${BOT}> hi");\n\`\`\``,
  );
  strictEqual(stripMention(`\`<@!${BOT}>\` 이게 뭐야 <@${BOT}>`, BOT), `\`<@!${BOT}>\` 이게 뭐야`);
  strictEqual(stripMention(`<@${BOT}> \`\`a <@${BOT}> b\`\``, BOT), `\`\`a <@${BOT}> b\`\``);
});

Deno.test("stripMention() treats an unclosed fence as plain text", () => {
  strictEqual(stripMention(`\`\`\` <@${BOT}> 안녕`, BOT), "``` 안녕");
});

Deno.test("stripMention() strips the bot's managed role, and no other role", () => {
  strictEqual(stripMention(`<@&${BOT_ROLE}> 안녕`, BOT, { roleId: BOT_ROLE }), "안녕");
  strictEqual(
    stripMention(`<@&${OTHER_ROLE}> 안녕`, BOT, { roleId: BOT_ROLE }),
    `<@&${OTHER_ROLE}> 안녕`,
  );
  strictEqual(stripMention(`<@&${BOT_ROLE}> 안녕`, BOT), `<@&${BOT_ROLE}> 안녕`);
});

Deno.test("shouldAnswer() answers a mention of the bot's managed role", () => {
  const roleMention = { content: `<@&${BOT_ROLE}> 안녕`, botRoleId: BOT_ROLE };
  strictEqual(shouldAnswer(message({ ...roleMention, mentionedRoleIds: [BOT_ROLE] }), BOT), true);
  // A role that is not mentionable is not listed in mention_roles; the text still addresses us.
  strictEqual(shouldAnswer(message(roleMention), BOT), true);
});

Deno.test("shouldAnswer() ignores other roles, and the role while it is unknown", () => {
  strictEqual(
    shouldAnswer(
      message({
        content: `<@&${OTHER_ROLE}> 회의`,
        mentionedRoleIds: [OTHER_ROLE],
        botRoleId: BOT_ROLE,
      }),
      BOT,
    ),
    false,
  );
  strictEqual(
    shouldAnswer(message({ content: `<@&${BOT_ROLE}> 안녕`, mentionedRoleIds: [BOT_ROLE] }), BOT),
    false,
  );
});

Deno.test("shouldAnswer() ignores a mention that appears only inside code", () => {
  strictEqual(shouldAnswer(message({ content: `이거 봐 \`<@${BOT}>\`` }), BOT), false);
  strictEqual(
    shouldAnswer(message({ content: `\`\`\`\n<@&${BOT_ROLE}>\n\`\`\``, botRoleId: BOT_ROLE }), BOT),
    false,
  );
});
