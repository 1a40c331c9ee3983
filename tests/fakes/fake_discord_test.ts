import assert from "node:assert/strict";
import { createBot, createDesiredPropertiesObject, GatewayIntents } from "discordeno";
import { type DiscordMessage, FakeDiscord } from "./fake_discord.ts";
import { DiscordSpec } from "./openapi_validator.ts";

const CHANNEL = "1300000000000000001";
const GUILD = "1400000000000000001";

/** Calls the fake's REST API as the bot would. */
async function call(
  fake: FakeDiscord,
  method: string,
  path: string,
  body?: unknown,
  /** `authorization: ""` sends none, as for interaction-token routes. */
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const sent = new Headers({ authorization: `Bot ${fake.token}`, ...headers });
  if (sent.get("authorization") === "") sent.delete("authorization");
  if (body !== undefined) sent.set("content-type", "application/json");
  const res = await fetch(`${fake.url}/api/v10${path}`, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Polls `cond` every few ms; for state that discordeno keeps behind its own timers. */
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

const quietLogger = {
  debug() {},
  info() {},
  warn() {},
  error: console.error,
  fatal: console.error,
};

/** A real discordeno bot connected to the fake, and a clean way to stop it. */
async function startBot(fake: FakeDiscord) {
  const seen: { content: string; id: bigint }[] = [];
  const buckets = new Set<{ timeoutId?: ReturnType<typeof setTimeout> }>();
  const bot = createBot({
    token: fake.token,
    intents: GatewayIntents.Guilds | GatewayIntents.GuildMessages |
      GatewayIntents.DirectMessages | GatewayIntents.MessageContent,
    desiredProperties: createDesiredPropertiesObject({}, true),
    loggerFactory: () => quietLogger,
    events: {
      messageCreate(m) {
        seen.push({ content: m.content, id: m.id });
      },
    },
    gateway: {
      // Without this, start() waits 5.3 s after READY before it resolves.
      spawnShardDelay: 0,
      events: {
        // The shard swaps its leaky bucket on HELLO, after IDENTIFY has already armed the old
        // bucket's 60 s refill timer; keep every bucket so that timer can be cleared.
        connected(shard) {
          buckets.add(shard.bucket);
        },
      },
    },
  });
  // Set after creation so isProxied stays false: the rate-limit queue and 429 retries stay on.
  bot.rest.baseUrl = fake.url;
  // The queue only honours a truthy value; 0 would fall back to 60 s.
  bot.rest.deleteQueueDelay = 1;
  await bot.start();
  return {
    bot,
    seen,
    async stop() {
      await bot.shutdown();
      for (const shard of bot.gateway.shards.values()) buckets.add(shard.bucket);
      for (const bucket of buckets) clearTimeout(bucket.timeoutId);
      await until(
        () => bot.rest.queues.size === 0 && !bot.rest.processingRateLimitedPaths,
        "discordeno's REST queues to empty",
      );
    },
  };
}

Deno.test("GET /gateway/bot points at the fake's gateway with a session start limit", async () => {
  const fake = await FakeDiscord.start();
  try {
    const res = await call(fake, "GET", "/gateway/bot");
    assert.equal(res.status, 200);
    const body = res.body as { session_start_limit: { reset_after: number } };
    const resetAfter = body.session_start_limit.reset_after;
    assert.ok(resetAfter > 86_000_000 && resetAfter <= 86_400_000, `reset_after ${resetAfter}`);
    assert.deepEqual(body, {
      url: `ws://127.0.0.1:${new URL(fake.url).port}/gateway`,
      shards: 1,
      session_start_limit: {
        total: 1000,
        remaining: 1000,
        reset_after: resetAfter,
        max_concurrency: 1,
      },
    });
    assert.equal(fake.requests[0].path, "/gateway/bot");
    assert.equal(Number(res.headers.get("x-ratelimit-remaining")) > 0, true);
  } finally {
    await fake.close();
  }
});

Deno.test("a request without the bot token gets 401 and counts as invalid", async () => {
  const fake = await FakeDiscord.start();
  try {
    const res = await call(fake, "GET", "/users/@me", undefined, { authorization: "Bot nope" });
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, { message: "401: Unauthorized", code: 0 });
    assert.equal(fake.invalidRequests.length, 1);
    const me = await call(fake, "GET", "/users/@me");
    assert.equal((me.body as { id: string }).id, fake.botId);
  } finally {
    await fake.close();
  }
});

Deno.test("messages can be created, read, listed newest first, edited and deleted", async () => {
  const fake = await FakeDiscord.start();
  try {
    const user = await fake.sendUserMessage({ channelId: CHANNEL, guildId: GUILD, content: "hi" });
    const created = await call(fake, "POST", `/channels/${CHANNEL}/messages`, {
      content: "hello",
      allowed_mentions: { parse: [] },
      message_reference: { message_id: user.id, fail_if_not_exists: false },
    });
    assert.equal(created.status, 200);
    const msg = created.body as DiscordMessage;
    assert.equal(msg.type, 19);
    assert.equal(msg.author.id, fake.botId);
    assert.equal(msg.message_reference?.message_id, user.id);
    assert.equal(msg.referenced_message?.content, "hi");
    assert.equal(BigInt(msg.id) > BigInt(user.id), true);

    const list = await call(fake, "GET", `/channels/${CHANNEL}/messages?limit=10`);
    assert.deepEqual((list.body as DiscordMessage[]).map((m) => m.content), ["hello", "hi"]);
    const older = await call(fake, "GET", `/channels/${CHANNEL}/messages?before=${msg.id}`);
    assert.deepEqual((older.body as DiscordMessage[]).map((m) => m.id), [user.id]);
    const tooMany = await call(fake, "GET", `/channels/${CHANNEL}/messages?limit=101`);
    assert.equal(tooMany.status, 400);

    const edited = await call(fake, "PATCH", `/channels/${CHANNEL}/messages/${msg.id}`, {
      content: "hello again",
    });
    assert.equal((edited.body as DiscordMessage).content, "hello again");
    assert.notEqual((edited.body as DiscordMessage).edited_timestamp, null);
    const got = await call(fake, "GET", `/channels/${CHANNEL}/messages/${msg.id}`);
    assert.equal((got.body as DiscordMessage).content, "hello again");

    assert.equal(
      (await call(fake, "DELETE", `/channels/${CHANNEL}/messages/${msg.id}`)).status,
      204,
    );
    const gone = await call(fake, "PATCH", `/channels/${CHANNEL}/messages/${msg.id}`, {
      content: "x",
    });
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, { message: "Unknown Message", code: 10008 });
    assert.deepEqual(
      fake.messagesIn(CHANNEL).map((m) => [m.content, m.deleted]),
      [["hi", false], ["hello again", true]],
    );
    assert.equal((await call(fake, "POST", `/channels/${CHANNEL}/typing`)).status, 204);
  } finally {
    await fake.close();
  }
});

Deno.test("application commands are overwritten in bulk and listed with ids", async () => {
  const fake = await FakeDiscord.start();
  try {
    const app = fake.applicationId;
    const put = await call(fake, "PUT", `/applications/${app}/commands`, [{
      name: "ask",
      description: "Ask Soye",
      name_localizations: { ko: "질문" },
      options: [{ type: 3, name: "question", description: "What to ask", required: true }],
      default_member_permissions: null,
    }]);
    assert.equal(put.status, 200);
    const [cmd] = put.body as { id: string; name: string; application_id: string }[];
    assert.equal(cmd.name, "ask");
    assert.equal(cmd.application_id, app);
    const again = await call(fake, "PUT", `/applications/${app}/commands`, [{ name: "ask" }]);
    assert.equal((again.body as { id: string }[])[0].id, cmd.id, "same name keeps its id");
    const guild = await call(fake, "POST", `/applications/${app}/guilds/${GUILD}/commands`, {
      name: "reset",
      description: "Forget the conversation",
    });
    assert.equal(guild.status, 201);
    const listed = await call(fake, "GET", `/applications/${app}/guilds/${GUILD}/commands`);
    assert.deepEqual((listed.body as { name: string }[]).map((c) => c.name), ["reset"]);
  } finally {
    await fake.close();
  }
});

Deno.test("an interaction is deferred, its original edited and a followup sent", async () => {
  const fake = await FakeDiscord.start();
  try {
    const { id, token } = await fake.sendInteraction({
      channelId: CHANNEL,
      guildId: GUILD,
      name: "ask",
      options: [{ name: "question", type: 3, value: "why?" }],
    });
    const app = fake.applicationId;
    const noAuth = { authorization: "" };
    const deferred = await call(fake, "POST", `/interactions/${id}/${token}/callback`, {
      type: 5,
    }, noAuth);
    assert.equal(deferred.status, 204);
    const twice = await call(fake, "POST", `/interactions/${id}/${token}/callback`, { type: 5 });
    assert.equal((twice.body as { code: number }).code, 40060);
    const edited = await call(fake, "PATCH", `/webhooks/${app}/${token}/messages/@original`, {
      content: "because",
      allowed_mentions: { parse: [] },
    });
    assert.equal((edited.body as DiscordMessage).content, "because");
    assert.equal((edited.body as DiscordMessage).flags, 0, "the loading flag is gone");
    const original = await call(fake, "GET", `/webhooks/${app}/${token}/messages/@original`);
    assert.equal((original.body as DiscordMessage).content, "because");
    const quiet = await call(fake, "POST", `/webhooks/${app}/${token}`, { content: "more" });
    assert.equal(quiet.status, 204);
    const followup = await call(fake, "POST", `/webhooks/${app}/${token}?wait=true`, {
      content: "even more",
    });
    const followupId = (followup.body as DiscordMessage).id;
    const fixed = await call(fake, "PATCH", `/webhooks/${app}/${token}/messages/${followupId}`, {
      content: "fixed",
    });
    assert.equal((fixed.body as DiscordMessage).content, "fixed");
    const state = fake.interaction(id)!;
    assert.deepEqual(state.callbackTypes, [5]);
    assert.deepEqual(state.followups.map((m) => m.content), ["more", "fixed"]);
    assert.equal(
      (await call(fake, "DELETE", `/webhooks/${app}/${token}/messages/@original`)).status,
      204,
    );
  } finally {
    await fake.close();
  }
});

Deno.test("the spec accepts the bodies a bot normally sends", async () => {
  const spec = await DiscordSpec.load();
  const valid: [string, string, unknown][] = [
    ["POST", "/channels/1/messages", {
      content: "hello",
      allowed_mentions: { parse: [] },
      message_reference: { message_id: "2", channel_id: "1", fail_if_not_exists: false },
    }],
    ["PATCH", "/channels/1/messages/2", { content: "edited", allowed_mentions: { parse: [] } }],
    ["PUT", "/applications/3/commands", [{
      name: "ask",
      description: "Ask",
      name_localizations: { ko: "질문" },
      description_localizations: { ko: "질문하기" },
      options: [{ type: 3, name: "q", description: "Question", required: true }],
      default_member_permissions: "8",
      contexts: [0, 1],
    }]],
    ["POST", "/interactions/4/tok/callback", { type: 5 }],
    ["POST", "/interactions/4/tok/callback", { type: 4, data: { content: "hi" } }],
    ["PATCH", "/webhooks/3/tok/messages/@original", { content: "done" }],
    ["POST", "/webhooks/3/tok", { content: "followup" }],
  ];
  for (const [method, path, body] of valid) {
    assert.deepEqual(spec.validateBody(method, path, body), [], `${method} ${path}`);
  }
  assert.equal(spec.match("GET", "/users/@me")?.operationId, "get_my_user");
  assert.equal(
    spec.match("PATCH", "/webhooks/3/tok/messages/@original")?.pathTemplate,
    "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
  );
});

Deno.test("the spec refuses over-long content, bogus mentions and unknown routes", async () => {
  const spec = await DiscordSpec.load();
  const long = spec.validateBody("POST", "/channels/1/messages", { content: "x".repeat(2001) });
  assert.match(long.join("\n"), /\/content must NOT have more than 2000 characters/);
  assert.deepEqual(
    spec.validateBody("POST", "/channels/1/messages", { content: "x".repeat(2000) }),
    [],
  );
  const bogus = spec.validateBody("POST", "/channels/1/messages", {
    content: "x",
    allowed_mentions: { parse: ["bogus"] },
  });
  assert.match(bogus.join("\n"), /\/allowed_mentions\/parse\/0/);
  assert.notDeepEqual(spec.validateBody("POST", "/interactions/4/tok/callback", { type: 99 }), []);
  assert.equal(spec.match("POST", "/channels/1/nonsense"), undefined);
});

Deno.test("the fake answers an invalid body with Discord's 50035 and records it", async () => {
  const fake = await FakeDiscord.start();
  try {
    const res = await call(fake, "POST", `/channels/${CHANNEL}/messages`, {
      content: "x".repeat(2001),
    });
    assert.equal(res.status, 400);
    const body = res.body as { code: number; message: string; errors: Record<string, unknown> };
    assert.equal(body.code, 50035);
    assert.equal(body.message, "Invalid Form Body");
    assert.ok(body.errors.content);
    assert.equal(fake.invalidRequests.length, 1);
    assert.match(fake.invalidRequests[0].errors[0], /content/);
    assert.equal(fake.messagesIn(CHANNEL).length, 0);

    const unknown = await call(fake, "GET", "/channels/1/nonsense");
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { message: "404: Not Found", code: 0 });
    assert.equal(fake.invalidRequests.length, 2);
  } finally {
    await fake.close();
  }
});

Deno.test("rateLimitNext answers 429 with Discord's body and rate-limit headers", async () => {
  const fake = await FakeDiscord.start();
  try {
    fake.rateLimitNext("POST", /^\/channels\/\d+\/messages$/, { retryAfterSeconds: 1.5 });
    const limited = await call(fake, "POST", `/channels/${CHANNEL}/messages`, { content: "a" });
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.body, {
      message: "You are being rate limited.",
      retry_after: 1.5,
      global: false,
    });
    const h = limited.headers;
    assert.equal(h.get("retry-after"), "1.5");
    assert.equal(h.get("x-ratelimit-remaining"), "0");
    assert.equal(h.get("x-ratelimit-reset-after"), "1.500");
    assert.equal(h.get("x-ratelimit-scope"), "user");
    assert.match(h.get("x-ratelimit-bucket") ?? "", /^[0-9a-f]{32}$/);
    assert.ok(h.get("x-ratelimit-limit"));
    const next = await call(fake, "POST", `/channels/${CHANNEL}/messages`, { content: "b" });
    assert.equal(next.status, 200, "only `count` requests are limited");
    assert.equal(fake.invalidRequests.length, 0);
  } finally {
    await fake.close();
  }
});

Deno.test("serverErrorsFor answers matching requests with a 5xx until the time is up", async () => {
  const fake = await FakeDiscord.start();
  try {
    fake.serverErrorsFor("PATCH", /\/messages\/\d+$/, { ms: 300, status: 502 });
    const posted = await call(fake, "POST", `/channels/${CHANNEL}/messages`, { content: "a" });
    assert.equal(posted.status, 200, "other routes are untouched");
    const id = (posted.body as { id: string }).id;
    const refused = await call(fake, "PATCH", `/channels/${CHANNEL}/messages/${id}`, {
      content: "b",
    });
    assert.equal(refused.status, 502);
    assert.deepEqual(refused.body, { message: "502: Bad Gateway", code: 0 });
    await new Promise((r) => setTimeout(r, 350));
    const edited = await call(fake, "PATCH", `/channels/${CHANNEL}/messages/${id}`, {
      content: "c",
    });
    assert.equal(edited.status, 200);
    assert.deepEqual(fake.messagesIn(CHANNEL).map((m) => m.content), ["c"]);
  } finally {
    await fake.close();
  }
});

Deno.test("waitForRequest times out listing recent requests", async () => {
  const fake = await FakeDiscord.start();
  try {
    await call(fake, "GET", "/users/@me");
    await assert.rejects(
      fake.waitForRequest((r) => r.method === "DELETE", 20),
      /no matching request within 20 ms[\s\S]*GET \/users\/@me -> 200/,
    );
    const later = fake.waitForRequest((r) => r.path === "/gateway/bot");
    await call(fake, "GET", "/gateway/bot");
    assert.equal((await later).status, 200);
  } finally {
    await fake.close();
  }
});

Deno.test("onRequest sees each answered request until unsubscribed", async () => {
  const fake = await FakeDiscord.start();
  try {
    const seen: string[] = [];
    const unsubscribe = fake.onRequest((r) => seen.push(`${r.method} ${r.path} ${r.status}`));
    await call(fake, "GET", "/users/@me");
    await call(fake, "POST", `/channels/${CHANNEL}/messages`, { content: "안녕" });
    unsubscribe();
    await call(fake, "GET", "/gateway/bot");
    assert.deepEqual(seen, ["GET /users/@me 200", `POST /channels/${CHANNEL}/messages 200`]);
  } finally {
    await fake.close();
  }
});

Deno.test("a discordeno bot receives messages, replies with a valid body and resumes", async () => {
  const fake = await FakeDiscord.start();
  const { bot, seen, stop } = await startBot(fake);
  try {
    await fake.waitForReady();
    assert.equal(fake.identified, 1);

    const question = await fake.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "what is soy?",
      mentionsBot: true,
    });
    await until(() => seen.some((m) => m.content.endsWith("what is soy?")), "messageCreate");

    await bot.helpers.sendMessage(CHANNEL, {
      content: "a bean",
      allowedMentions: { parse: [] },
      messageReference: { messageId: question.id, channelId: CHANNEL, failIfNotExists: false },
    });
    const sent = await fake.waitForRequest((r) => r.method === "POST" && r.status === 200);
    assert.deepEqual(sent.body, {
      content: "a bean",
      allowed_mentions: { parse: [] },
      message_reference: {
        message_id: question.id,
        channel_id: CHANNEL,
        fail_if_not_exists: false,
      },
    });
    assert.deepEqual(fake.invalidRequests, []);
    // Discord echoes the bot's own message back on the gateway.
    await until(() => seen.some((m) => m.content === "a bean"), "the bot's own MESSAGE_CREATE");

    fake.dropConnection();
    // Sent while the socket is down: Discord keeps it and replays it after RESUME.
    await fake.sendUserMessage({ channelId: CHANNEL, guildId: GUILD, content: "missed?" });
    await fake.waitForResumed(1);
    await until(() => seen.some((m) => m.content === "missed?"), "the replayed message");
    assert.equal(fake.identified, 1, "resumed, not re-identified");
    await fake.sendUserMessage({ channelId: CHANNEL, guildId: GUILD, content: "still there?" });
    await until(() => seen.some((m) => m.content === "still there?"), "a message after RESUME");
  } finally {
    await stop();
    await fake.close();
  }
});

/** A bare gateway client: the frames it got, and a way to wait for one. */
async function rawGateway(fake: FakeDiscord) {
  const socket = new WebSocket(`${fake.gatewayUrl}?v=10&encoding=json`);
  const frames: { op: number; t?: string; d: Record<string, unknown> }[] = [];
  let closeCode = 0;
  const closed = new Promise<void>((resolve) => {
    socket.onclose = (e) => {
      closeCode = e.code;
      resolve();
    };
  });
  socket.onmessage = (e) => frames.push(JSON.parse(e.data));
  await until(() => frames.length > 0, "HELLO");
  return {
    frames,
    closed,
    closeCode: () => closeCode,
    send: (payload: unknown) => socket.send(JSON.stringify(payload)),
    next: async (pred: (f: (typeof frames)[number]) => boolean) => {
      await until(() => frames.some(pred), "a gateway frame");
      return frames.find(pred)!;
    },
    close: () => (socket.close(), closed),
  };
}

Deno.test("the gateway says HELLO, acks heartbeats and gates content by intents", async () => {
  const fake = await FakeDiscord.start({ heartbeatIntervalMs: 45000 });
  const gw = await rawGateway(fake);
  try {
    // Discord's payloads always carry s and t, null outside a dispatch.
    assert.deepEqual(gw.frames[0], { op: 10, d: { heartbeat_interval: 45000 }, s: null, t: null });
    gw.send({ op: 1, d: null });
    assert.deepEqual(await gw.next((f) => f.op === 11), { op: 11, d: null, s: null, t: null });
    gw.send({ op: 2, d: { token: fake.token, intents: GatewayIntents.GuildMessages } });
    const ready = await gw.next((f) => f.t === "READY");
    assert.equal((ready.d.user as { id: string }).id, fake.botId);
    assert.equal(ready.d.resume_gateway_url, fake.gatewayUrl);

    // No MESSAGE_CONTENT intent: content arrives only when the bot is mentioned.
    await fake.sendUserMessage({ channelId: CHANNEL, guildId: GUILD, content: "secret" });
    await fake.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "hey",
      mentionsBot: true,
    });
    await until(() => gw.frames.filter((f) => f.t === "MESSAGE_CREATE").length === 2, "2 messages");
    const contents = gw.frames.filter((f) => f.t === "MESSAGE_CREATE").map((f) => f.d.content);
    assert.deepEqual(contents, ["", `<@${fake.botId}> hey`]);
    // No DIRECT_MESSAGES intent: a DM is not delivered at all.
    assert.equal(fake.dispatch("PING_TEST", {}), 4);
    await fake.sendUserMessage({ channelId: "9", content: "dm" });
    await gw.next((f) => f.t === "PING_TEST");
    assert.equal(gw.frames.some((f) => f.d?.content === "dm"), false);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("the gateway closes with 4004 on a wrong token", async () => {
  const fake = await FakeDiscord.start();
  const gw = await rawGateway(fake);
  try {
    gw.send({ op: 2, d: { token: "Bot wrong", intents: 0 } });
    await gw.closed;
    assert.equal(gw.closeCode(), 4004);
    assert.equal(fake.identified, 0);
  } finally {
    await fake.close();
  }
});

Deno.test("discordeno's queue retries a request the fake rate limited", async () => {
  const fake = await FakeDiscord.start();
  const { bot, stop } = await startBot(fake);
  try {
    fake.rateLimitNext("POST", /\/messages$/, { retryAfterSeconds: 0.05 });
    const message = await bot.helpers.sendMessage(CHANNEL, { content: "patient" });
    assert.equal(message.content, "patient");
    const posts = fake.requestsTo("POST", /\/messages$/).map((r) => r.status);
    assert.deepEqual(posts, [429, 200]);
  } finally {
    await stop();
    await fake.close();
  }
});

Deno.test("discordeno's command, defer and edit requests pass the spec", async () => {
  const fake = await FakeDiscord.start();
  const { bot, stop } = await startBot(fake);
  try {
    await bot.helpers.upsertGlobalApplicationCommands([{
      name: "ask",
      description: "Ask Soye",
      nameLocalizations: { ko: "질문" },
      defaultMemberPermissions: ["SEND_MESSAGES"],
      options: [{ type: 3, name: "question", description: "What to ask", required: true }],
    }]);
    assert.equal(fake.commands()[0].name, "ask");
    const { id, token } = await fake.sendInteraction({ channelId: CHANNEL, name: "ask" });
    await bot.helpers.sendInteractionResponse(id, token, { type: 5 });
    await bot.helpers.editOriginalInteractionResponse(token, { content: "done" });
    assert.equal(fake.interaction(id)?.original?.content, "done");
    assert.deepEqual(fake.interaction(id)?.callbackTypes, [5]);
    assert.deepEqual(fake.invalidRequests, []);
  } finally {
    await stop();
    await fake.close();
  }
});

/** The session start limit `GET /gateway/bot` reports now. */
async function sessionStartLimit(fake: FakeDiscord) {
  const res = await call(fake, "GET", "/gateway/bot");
  return (res.body as { session_start_limit: { remaining: number; reset_after: number } })
    .session_start_limit;
}

/** Opens a raw gateway socket and identifies; resolves with the client and its READY. */
async function identified(fake: FakeDiscord) {
  const gw = await rawGateway(fake);
  gw.send({ op: 2, d: { token: fake.token, intents: GatewayIntents.GuildMessages } });
  const ready = await gw.next((f) => f.t === "READY");
  return { gw, sessionId: String(ready.d.session_id) };
}

Deno.test("each IDENTIFY takes a session start; past the limit the gateway closes with 4004", async () => {
  const fake = await FakeDiscord.start({
    sessionStartLimit: { total: 5, remaining: 1, resetAfterMs: 60_000 },
  });
  try {
    const first = await identified(fake);
    assert.equal((await sessionStartLimit(fake)).remaining, 0);
    const second = await rawGateway(fake);
    second.send({ op: 2, d: { token: fake.token, intents: 0 } });
    await second.closed;
    assert.equal(second.closeCode(), 4004);
    assert.equal(fake.identified, 1);
    assert.equal(fake.identifiesOverLimit, 1);
    await first.gw.close();
  } finally {
    await fake.close();
  }
});

Deno.test("the session start limit goes back to its total after reset_after", async () => {
  const fake = await FakeDiscord.start({
    sessionStartLimit: { total: 5, remaining: 0, resetAfterMs: 100 },
  });
  try {
    const before = await sessionStartLimit(fake);
    assert.equal(before.remaining, 0);
    assert.ok(before.reset_after <= 100);
    await new Promise((r) => setTimeout(r, 150));
    const after = await sessionStartLimit(fake);
    assert.equal(after.remaining, 5);
    assert.ok(after.reset_after > 86_000_000, "a new period began");
  } finally {
    await fake.close();
  }
});

Deno.test("a gateway outage refuses and counts connections; RESUME after it replays what was missed", async () => {
  const fake = await FakeDiscord.start();
  try {
    const { gw, sessionId } = await identified(fake);
    const attemptsBefore = fake.gatewayConnectionAttempts;
    const over = fake.gatewayOutage(300);
    await gw.closed;
    assert.equal(gw.closeCode(), 1001);
    const missed = await fake.sendUserMessage({ channelId: CHANNEL, guildId: GUILD, content: "x" });

    // While down, an attempt is refused before any WebSocket opens.
    const refused = new WebSocket(`${fake.gatewayUrl}?v=10&encoding=json`);
    let opened = false;
    refused.onopen = () => (opened = true);
    await new Promise((resolve) => (refused.onclose = resolve));
    assert.equal(opened, false);
    assert.equal(fake.gatewayConnectionAttempts, attemptsBefore + 1);
    await over;

    // An IDENTIFY now gets a fresh session, without the missed message.
    const fresh = await identified(fake);
    assert.notEqual(fresh.sessionId, sessionId);
    await fresh.gw.close();
    assert.equal(fresh.gw.frames.some((f) => f.t === "MESSAGE_CREATE"), false);

    // A RESUME of the old session replays it, then says RESUMED.
    const resumed = await rawGateway(fake);
    resumed.send({ op: 6, d: { token: `Bot ${fake.token}`, session_id: sessionId, seq: 1 } });
    await resumed.next((f) => f.t === "RESUMED");
    const replayed = resumed.frames.filter((f) => f.op === 0).map((f) => f.t);
    assert.deepEqual(replayed, ["MESSAGE_CREATE", "RESUMED"]);
    assert.equal(resumed.frames.find((f) => f.t === "MESSAGE_CREATE")!.d.id, missed.id);
    assert.equal(fake.resumed, 1);
    assert.equal(fake.gatewayConnectionAttempts, attemptsBefore + 3);
    await resumed.close();
  } finally {
    await fake.close();
  }
});

Deno.test("a session past its resume window gets op 9 with d=false on RESUME", async () => {
  const fake = await FakeDiscord.start({ resumeWindowMs: 100 });
  try {
    const { gw, sessionId } = await identified(fake);
    fake.dropConnection();
    await gw.closed;
    await new Promise((r) => setTimeout(r, 150));
    const late = await rawGateway(fake);
    late.send({ op: 6, d: { token: fake.token, session_id: sessionId, seq: 1 } });
    const invalid = await late.next((f) => f.op === 9);
    assert.equal(invalid.d, false);
    assert.equal(fake.resumed, 0);
    assert.equal(fake.resumesRefused, 1);
    await late.close();
  } finally {
    await fake.close();
  }
});

Deno.test("failNext answers a 5xx once without carrying the request out", async () => {
  const fake = await FakeDiscord.start();
  try {
    fake.failNext("POST", /^\/channels\/\d+\/messages$/, 503);
    const failed = await call(fake, "POST", `/channels/${CHANNEL}/messages`, { content: "a" });
    assert.equal(failed.status, 503);
    assert.deepEqual(fake.messagesIn(CHANNEL), []);
    const next = await call(fake, "POST", `/channels/${CHANNEL}/messages`, { content: "b" });
    assert.equal(next.status, 200);
    assert.deepEqual(fake.messagesIn(CHANNEL).map((m) => m.content), ["b"]);
  } finally {
    await fake.close();
  }
});

Deno.test("joinGuild sends GUILD_CREATE with the bot's managed role, only with the Guilds intent", async () => {
  const fake = await FakeDiscord.start();
  const without = await rawGateway(fake);
  try {
    without.send({ op: 2, d: { token: fake.token, intents: GatewayIntents.GuildMessages } });
    await without.next((f) => f.t === "READY");
    assert.equal(fake.joinGuild({ guildId: GUILD, botRoleId: "1500000000000000001" }), undefined);
  } finally {
    await without.close();
  }
  const gw = await rawGateway(fake);
  try {
    gw.send({ op: 2, d: { token: fake.token, intents: GatewayIntents.Guilds } });
    await gw.next((f) => f.t === "READY");
    fake.joinGuild({ guildId: GUILD, botRoleId: "1500000000000000001" });
    const created = await gw.next((f) => f.t === "GUILD_CREATE");
    const roles = created.d.roles as { id: string; managed: boolean; tags?: { bot_id?: string } }[];
    assert.deepEqual(roles.map((r) => [r.id, r.managed, r.tags?.bot_id]), [
      [GUILD, false, undefined],
      ["1500000000000000001", true, fake.botId],
    ]);
  } finally {
    await gw.close();
    await fake.close();
  }
});

Deno.test("a sharded gateway sends each guild's events to the shard that owns it, DMs to shard 0", async () => {
  const fake = await FakeDiscord.start({ shards: 2 });
  const intents = GatewayIntents.GuildMessages | GatewayIntents.DirectMessages |
    GatewayIntents.MessageContent;
  const shards = [await rawGateway(fake), await rawGateway(fake)];
  try {
    const bot = await fetch(`${fake.url}/api/v10/gateway/bot`, {
      headers: { authorization: `Bot ${fake.token}` },
    }).then((r) => r.json());
    assert.equal(bot.shards, 2);
    shards.forEach((gw, id) =>
      gw.send({ op: 2, d: { token: fake.token, intents, shard: [id, 2] } })
    );
    for (const [id, gw] of shards.entries()) {
      const ready = await gw.next((f) => f.t === "READY");
      assert.deepEqual(ready.d.shard, [id, 2]);
    }
    assert.deepEqual(fake.connectedShards, [0, 1]);
    // (guild_id >> 22) % 2: an even timestamp part is shard 0's, an odd one shard 1's.
    const guildOf = (shard: bigint) => String(((1000n + shard) << 22n) | 7n);
    await fake.sendUserMessage({ channelId: CHANNEL, guildId: guildOf(0n), content: "zero" });
    await fake.sendUserMessage({ channelId: CHANNEL, guildId: guildOf(1n), content: "one" });
    await fake.sendUserMessage({ channelId: "9", content: "dm" });
    const contents = (id: number) =>
      shards[id].frames.filter((f) => f.t === "MESSAGE_CREATE").map((f) => f.d.content);
    await until(() => contents(0).length === 2 && contents(1).length === 1, "three messages");
    assert.deepEqual(contents(0), ["zero", "dm"]);
    assert.deepEqual(contents(1), ["one"]);
    const refused = await rawGateway(fake);
    refused.send({ op: 2, d: { token: fake.token, intents, shard: [2, 2] } });
    await refused.closed;
    assert.equal(refused.closeCode(), 4010, "a shard id past the count is refused");
  } finally {
    for (const gw of shards) await gw.close();
    await fake.close();
  }
});

Deno.test("the fake counts requests per sliding second over every client", async () => {
  const fake = await FakeDiscord.start({ validate: false });
  try {
    const get = () =>
      fetch(`${fake.url}/api/v10/users/@me`, { headers: { authorization: `Bot ${fake.token}` } })
        .then((r) => r.body?.cancel());
    await Promise.all([get(), get(), get()]);
    assert.equal(fake.busiestSecond(), 3);
  } finally {
    await fake.close();
  }
});

Deno.test("a button on a bot message is pressed through the gateway, and answered with a type 6", async () => {
  const fake = await FakeDiscord.start({ heartbeatIntervalMs: 45000 });
  const gw = await rawGateway(fake);
  try {
    gw.send({ op: 2, d: { token: fake.token, intents: GatewayIntents.GuildMessages } });
    await gw.next((f) => f.t === "READY");
    await fake.sendUserMessage({ channelId: CHANNEL, guildId: GUILD, content: "hi" });
    const row = {
      type: 1,
      components: [{ type: 2, style: 4, label: "그만", custom_id: "stop:1:2" }],
    };
    const posted = await call(fake, "POST", `/channels/${CHANNEL}/messages`, {
      content: "답하는 중",
      components: [row],
    });
    assert.equal(posted.status, 200);
    const messageId = (posted.body as DiscordMessage).id;
    assert.deepEqual(fake.messagesIn(CHANNEL).at(-1)!.components, [row]);

    const { id, token } = fake.pressButton({ messageId, userId: "1200000000000000009" });
    const frame = await gw.next((f) => f.t === "INTERACTION_CREATE");
    assert.equal(frame.d.type, 3);
    assert.deepEqual(frame.d.data, { custom_id: "stop:1:2", component_type: 2 });
    assert.equal((frame.d.message as { id: string }).id, messageId);
    assert.equal(
      (frame.d.member as { user: { id: string } }).user.id,
      "1200000000000000009",
    );
    const ack = await call(fake, "POST", `/interactions/${id}/${token}/callback`, { type: 6 }, {
      authorization: "",
    });
    assert.equal(ack.status, 204);
    assert.deepEqual(fake.interaction(id)!.callbackTypes, [6]);
    // Taking the buttons off with an edit.
    await call(fake, "PATCH", `/channels/${CHANNEL}/messages/${messageId}`, {
      content: "다 했어",
      components: [],
    });
    assert.deepEqual(fake.messagesIn(CHANNEL).at(-1)!.components, []);
    assert.deepEqual(fake.invalidRequests, []);
  } finally {
    await gw.close();
    await fake.close();
  }
});
