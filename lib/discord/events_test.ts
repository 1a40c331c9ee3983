import assert from "node:assert/strict";
import { chatMessageFrom, type Payload, slashCommandFrom } from "./events.ts";

const BOT = "1100000000000000001";
const USER = "1200000000000000001";
const GUILD = "1300000000000000001";
const CHANNEL = "1400000000000000001";
const ROLE = "1500000000000000001";

function messageCreate(overrides: Record<string, unknown> = {}): Payload {
  return {
    id: "1600000000000000001",
    channel_id: CHANNEL,
    guild_id: GUILD,
    author: { id: USER, username: "minsu", global_name: "민수" },
    member: { nick: null },
    content: `<@&${ROLE}> 안녕`,
    type: 0,
    mentions: [],
    mention_roles: [ROLE],
    mention_everyone: false,
    ...overrides,
  };
}

function interactionCreate(overrides: Record<string, unknown> = {}): Payload {
  return {
    id: "1700000000000000001",
    type: 2,
    token: "aW50ZXJhY3Rpb24_token-1",
    channel_id: CHANNEL,
    guild_id: GUILD,
    member: { user: { id: USER } },
    data: { name: "summarize", options: [{ name: "minutes", type: 4, value: 20 }] },
    ...overrides,
  };
}

Deno.test("chatMessageFrom() reads a guild message with its role mentions", () => {
  const parsed = chatMessageFrom(messageCreate(), (g) => g === GUILD ? ROLE : undefined);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.channelId, CHANNEL);
  assert.equal(parsed.value.authorName, "민수");
  assert.deepEqual(parsed.value.mentionedRoleIds, [ROLE]);
  assert.equal(parsed.value.botRoleId, ROLE);
});

Deno.test("chatMessageFrom() refuses ids that could steer a URL, naming the field only", () => {
  for (
    const [field, bad] of [
      ["channel_id", "../../users/@me"],
      ["id", "1/../2"],
      ["guild_id", "x"],
    ] as const
  ) {
    const parsed = chatMessageFrom(messageCreate({ [field]: bad }), () => undefined);
    assert.ok(!parsed.ok, field);
    assert.match(parsed.reason, new RegExp(field));
    assert.doesNotMatch(parsed.reason, /users|\.\./);
  }
  const noAuthor = chatMessageFrom(messageCreate({ author: { id: "me" } }), () => undefined);
  assert.ok(!noAuthor.ok);
  assert.ok(!chatMessageFrom(messageCreate({ author: undefined }), () => undefined).ok);
});

Deno.test("chatMessageFrom() drops malformed mentioned and replied-to ids", () => {
  const parsed = chatMessageFrom(
    messageCreate({
      mentions: [{ id: "../x" }, { id: BOT }],
      mention_roles: ["<@&1>"],
      referenced_message: { author: { id: "@me" } },
    }),
    () => undefined,
  );
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.mentionedUserIds, [BOT]);
  assert.deepEqual(parsed.value.mentionedRoleIds, []);
  assert.equal(parsed.value.replyToAuthorId, undefined);
});

const PNG = {
  id: "1800000000000000001",
  filename: "cat.png",
  content_type: "image/png",
  size: 1234,
  url: "https://cdn.discordapp.com/attachments/1/2/cat.png?ex=1&is=2&hm=3",
  proxy_url: "https://media.discordapp.net/attachments/1/2/cat.png",
};

const PNG_PARSED = {
  id: PNG.id,
  filename: "cat.png",
  contentType: "image/png",
  size: 1234,
  url: PNG.url,
};

Deno.test("chatMessageFrom() keeps well-formed attachments, whatever their URL, and drops the rest", () => {
  const parsed = chatMessageFrom(
    messageCreate({
      attachments: [
        PNG,
        { ...PNG, id: "../x" },
        { ...PNG, url: "javascript:alert(1)" },
        { ...PNG, size: -1 },
        { ...PNG, filename: 7 },
        { id: "1800000000000000002", filename: "a.bin", size: 1, url: "https://x.test/a" },
      ],
    }),
    () => undefined,
  );
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.attachments, [
    { id: PNG.id, filename: "cat.png", contentType: "image/png", size: 1234, url: PNG.url },
    // The URL is checked where it is fetched, against the allowed origins, and refused by name.
    { ...PNG_PARSED, url: "javascript:alert(1)" },
    { id: "1800000000000000002", filename: "a.bin", size: 1, url: "https://x.test/a" },
  ]);
  const none = chatMessageFrom(messageCreate({ attachments: [] }), () => undefined);
  assert.ok(none.ok);
  assert.equal(none.value.attachments, undefined);
});

Deno.test("chatMessageFrom() reads the message replied to, or its ids when Discord left it out", () => {
  const quoted = {
    id: "1600000000000000000",
    author: { id: "1200000000000000002", username: "chulsoo", global_name: "철수" },
    content: "내일 비 온대",
    attachments: [PNG],
  };
  const reference = { type: 0, message_id: quoted.id, channel_id: CHANNEL };
  const embedded = chatMessageFrom(
    messageCreate({ type: 19, message_reference: reference, referenced_message: quoted }),
    () => undefined,
  );
  assert.ok(embedded.ok);
  assert.equal(embedded.value.replyToAuthorId, "1200000000000000002");
  assert.deepEqual(embedded.value.replyTo, {
    id: quoted.id,
    authorId: "1200000000000000002",
    authorName: "철수",
    content: "내일 비 온대",
    attachments: [
      { id: PNG.id, filename: "cat.png", contentType: "image/png", size: 1234, url: PNG.url },
    ],
  });
  assert.equal(embedded.value.replyReference, undefined);

  const missing = chatMessageFrom(
    messageCreate({ type: 19, message_reference: reference }),
    () => undefined,
  );
  assert.ok(missing.ok);
  assert.deepEqual(missing.value.replyReference, { channelId: CHANNEL, messageId: quoted.id });

  // Deleted (null), forwarded (type 1), or a malformed id: nothing to fetch.
  for (
    const extra of [
      { message_reference: reference, referenced_message: null },
      { message_reference: { ...reference, type: 1 } },
      { message_reference: { ...reference, message_id: "../1" } },
    ]
  ) {
    const parsed = chatMessageFrom(messageCreate(extra), () => undefined);
    assert.ok(parsed.ok);
    assert.equal(parsed.value.replyReference, undefined);
    assert.equal(parsed.value.replyTo, undefined);
  }
});

Deno.test("slashCommandFrom() reads an application command and ignores other types", () => {
  const parsed = slashCommandFrom(interactionCreate());
  assert.ok(parsed?.ok);
  assert.equal(parsed.value.name, "summarize");
  assert.equal(parsed.value.channelId, CHANNEL);
  assert.equal(parsed.value.userId, USER);
  assert.deepEqual(parsed.value.options, { minutes: 20 });
  assert.equal(slashCommandFrom(interactionCreate({ type: 3 })), undefined);
});

Deno.test("slashCommandFrom() refuses an id or token that cannot go into a URL", () => {
  const badId = slashCommandFrom(interactionCreate({ id: "../../x" }));
  assert.ok(badId && !badId.ok);
  const badToken = slashCommandFrom(interactionCreate({ token: "abc/../../webhooks" }));
  assert.ok(badToken && !badToken.ok);
  assert.doesNotMatch(badToken.reason, /webhooks/);
});

Deno.test("slashCommandFrom() keeps a command without a channel or a name, to answer it", () => {
  const noChannel = slashCommandFrom(interactionCreate({ channel_id: undefined }));
  assert.ok(noChannel?.ok);
  assert.equal(noChannel.value.channelId, undefined);
  const badChannel = slashCommandFrom(interactionCreate({ channel_id: "../x" }));
  assert.ok(badChannel?.ok);
  assert.equal(badChannel.value.channelId, undefined);
  const noName = slashCommandFrom(interactionCreate({ data: undefined }));
  assert.ok(noName?.ok);
  assert.equal(noName.value.name, "");
});

Deno.test("slashCommandFrom() reads a subcommand's nested options and the member's permissions", () => {
  const parsed = slashCommandFrom(interactionCreate({
    member: { user: { id: USER }, permissions: "32" },
    data: {
      name: "settings",
      options: [{
        type: 1,
        name: "channel",
        options: [
          { name: "channel", type: 7, value: CHANNEL },
          { name: "mode", type: 3, value: "always" },
        ],
      }],
    },
  }));
  assert.ok(parsed?.ok);
  assert.equal(parsed.value.subcommand, "channel");
  assert.deepEqual(parsed.value.options, { channel: CHANNEL, mode: "always" });
  assert.equal(parsed.value.memberPermissions, "32");
  const noPermissions = slashCommandFrom(interactionCreate({
    member: { user: { id: USER }, permissions: "all of them" },
  }));
  assert.ok(noPermissions?.ok);
  assert.equal(noPermissions.value.memberPermissions, undefined);
  assert.equal(noPermissions.value.subcommand, undefined);
});

Deno.test("a forward's text and files come from message_snapshots[0].message, also when replied to", () => {
  const file = {
    id: "1700000000000000001",
    filename: "memo.txt",
    size: 4,
    url: "https://cdn.discordapp.com/attachments/1/2/memo.txt?ex=1&is=0&hm=x",
  };
  const snapshots = [{ message: { content: "회의는 세 시", attachments: [file] } }];
  const forward = messageCreate({
    content: "",
    guild_id: undefined,
    member: undefined,
    mention_roles: [],
    message_reference: { type: 1, message_id: "1600000000000000009", channel_id: CHANNEL },
    message_snapshots: snapshots,
  });
  const parsed = chatMessageFrom(forward, () => undefined);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.content, "");
  assert.deepEqual(parsed.value.forwarded, { content: "회의는 세 시", attachments: [file] });
  assert.equal(parsed.value.replyReference, undefined, "a forward is not a reply");

  const reply = messageCreate({
    message_reference: { type: 0, message_id: "1600000000000000002", channel_id: CHANNEL },
    referenced_message: {
      id: "1600000000000000002",
      channel_id: CHANNEL,
      author: { id: USER, username: "jisu" },
      content: "",
      message_snapshots: snapshots,
    },
  });
  const replied = chatMessageFrom(reply, () => undefined);
  assert.ok(replied.ok);
  assert.equal(replied.value.replyTo?.content, "회의는 세 시");
  assert.deepEqual(replied.value.replyTo?.attachments, [file]);
  assert.equal(replied.value.replyTo?.forwarded, true);
});
