/**
 * The broker end to end: the real GeminiBroker, SdkGeminiClient and MemoryTokenPool against the
 * fake Gemini on loopback, and the countdown through the real bot and the fake Discord.
 */
import assert from "node:assert/strict";
import { GeminiBroker, type GeminiBrokerOptions } from "../actors/gemini_broker.ts";
import { SdkGeminiClient } from "../lib/gemini/client.ts";
import { MemoryTokenPool } from "../lib/quota/token_pool.ts";
import { text } from "../lib/text/strings_ko.ts";
import { FakeGemini } from "./fakes/fake_gemini.ts";
import { until, World } from "./harness.ts";

const KEY = "test-key";
const CONTENTS = [{ role: "user", parts: [{ text: "민수: 안녕?" }] }];

/** `keys` are the broker's; `fakeKeys` the ones the fake Gemini accepts. */
async function withBroker(
  options: Partial<GeminiBrokerOptions> & { keys?: string[]; fakeKeys?: string[] },
  fn: (fake: FakeGemini, broker: GeminiBroker) => Promise<void>,
): Promise<void> {
  const fake = await FakeGemini.start({ apiKeys: options.fakeKeys ?? [KEY] });
  const broker = new GeminiBroker({
    client: new SdkGeminiClient({ baseUrl: fake.url }),
    pool: new MemoryTokenPool(options.keys ?? [KEY], { rpm: 100, tpm: 1_000_000, rpd: 1000 }),
    model: "gemini-3.8-flash",
    systemInstruction: "너는 소예야.",
    random: () => 1, // shortest backoff: 1 s less 20%
    ...options,
  });
  try {
    await fn(fake, broker);
  } finally {
    await broker.stop();
    await fake.close();
  }
}

const generates = (fake: FakeGemini) =>
  fake.requests.filter((r) => r.action === "streamGenerateContent");

Deno.test("a stream broken before any text is retried and answered; the process survives", async () => {
  await withBroker({}, async (fake, broker) => {
    fake.brokenStream(0).reply("두 번째엔 됐어.");
    const result = await broker.generate({ priority: "chat", contents: CONTENTS });
    assert.equal(result.ok && result.text, "두 번째엔 됐어.");
    assert.equal(result.ok && result.attempts, 2);
    assert.equal(generates(fake).length, 2);
  });
});

Deno.test("a stream broken after text ends 'interrupted' with the text shown, not retried", async () => {
  await withBroker({}, async (fake, broker) => {
    fake.script({ text: "하나 둘 셋 넷 다섯 여섯", chunks: 4, breakAfter: 2 });
    const shown: string[] = [];
    const result = await broker.generate({
      priority: "chat",
      contents: CONTENTS,
      onText: (t) => shown.push(t),
    });
    assert.equal(!result.ok && result.reason, "interrupted");
    assert.equal(!result.ok && result.partialText, shown.at(-1));
    assert.equal(generates(fake).length, 1);
  });
});

Deno.test("a first byte later than GEMINI_TIMEOUT_SECONDS times out, is retried, and leaks no timer", async () => {
  await withBroker({ timeoutMs: 300 }, async (fake, broker) => {
    fake.slowFirstByte(5000).reply("이번엔 빨랐지.");
    const result = await broker.generate({ priority: "chat", contents: CONTENTS });
    assert.equal(result.ok && result.text, "이번엔 빨랐지.");
    assert.equal(broker.stats.timeouts, 1);
    assert.equal(broker.stats.retries, 1);
  });
});

Deno.test("timeouts every time: the call fails 'unavailable' after maxAttempts", async () => {
  await withBroker({ timeoutMs: 100, maxAttempts: 2 }, async (fake, broker) => {
    fake.slowFirstByte(5000).slowFirstByte(5000);
    const result = await broker.generate({ priority: "chat", contents: CONTENTS });
    assert.deepEqual(result, { ok: false, reason: "unavailable", status: undefined });
    assert.equal(broker.stats.timeouts, 2);
  });
});

Deno.test("a real 429 from the API is retried after its RetryInfo delay", async () => {
  await withBroker({}, async (fake, broker) => {
    fake.fail429({ kind: "minute", retryDelaySeconds: 1 }).reply("기다렸다 답함.");
    const started = Date.now();
    const result = await broker.generate({ priority: "chat", contents: CONTENTS });
    assert.equal(result.ok && result.text, "기다렸다 답함.");
    assert.ok(Date.now() - started >= 1000);
    assert.equal(broker.stats.rateLimitedMinute, 1);
  });
});

Deno.test("a per-day 429 moves the call to the other key", async () => {
  const keys = [KEY, "second-key"];
  await withBroker({ keys, fakeKeys: keys }, async (fake, broker) => {
    fake.fail429({ kind: "day", retryDelaySeconds: 5 }).reply("다른 키로 답함.");
    const result = await broker.generate({ priority: "chat", contents: CONTENTS });
    assert.equal(result.ok && result.text, "다른 키로 답함.");
    assert.deepEqual(generates(fake).map((r) => r.apiKey), keys);
  });
});

Deno.test("a per-day 429 with a quotaValue teaches the pool the key's real daily limit", async () => {
  const keys = [KEY, "second-key"];
  const pool = new MemoryTokenPool(keys, { rpm: 100, tpm: 1_000_000, rpd: 250 });
  await withBroker({ keys, fakeKeys: keys, pool }, async (fake, broker) => {
    fake.fail429({ kind: "day", quotaValue: 20 }).reply("다른 키로 답함.");
    const result = await broker.generate({ priority: "chat", contents: CONTENTS });
    assert.equal(result.ok && result.text, "다른 키로 답함.");
    const [first, second] = pool.status(Date.now());
    assert.deepEqual([first.effective.rpd, second.effective.rpd], [20, 250]);
    assert.equal(first.requestsToday, 20);
  });
});

Deno.test("verifyKeys through the SDK: the invalid key is named by id, the valid one measures the persona", async () => {
  await withBroker({ keys: [KEY, "AIzaInvalidKey000"] }, async (_fake, broker) => {
    const checks = await broker.verifyKeys();
    assert.equal(checks[0].ok, true);
    assert.equal(checks[1].ok, false);
    assert.equal(checks[1].keyId, "key2");
    assert.equal(checks[1].status, 400);
    assert.match(checks[1].message, /key2.*API key not valid/);
    assert.ok(!checks[1].message.includes("AIzaInvalidKey000"));
    assert.ok(broker.stats.personaTokens! > 0);
    // The bad key is out of use: calls go to the good one.
    const result = await broker.generate({ priority: "chat", contents: CONTENTS });
    assert.equal(result.ok, true);
  });
});

Deno.test("the persona cache through the SDK: a big persona is cached and calls use it", async () => {
  // Over 3.8 Flash's cache minimum of 4,096 tokens.
  const persona = "너는 소예야. 반말로 짧게 말해. ".repeat(600);
  await withBroker({ systemInstruction: persona }, async (fake, broker) => {
    await broker.verifyKeys(); // measures the persona and starts the cache
    await until(() => broker.stats.cachesLive === 1, "the cache");
    fake.reply("캐시로 답함.");
    const result = await broker.generate({ priority: "chat", contents: CONTENTS });
    assert.equal(result.ok && result.usage.cachedTokens, broker.stats.personaTokens);
    const body = generates(fake)[0].body;
    assert.match(body.cachedContent, /^cachedContents\//);
    assert.equal(body.systemInstruction, undefined);
    assert.equal(body.generationConfig.thinkingConfig, undefined, "unset: the model's default");
    assert.equal(broker.stats.tokensCached, broker.stats.personaTokens);
  });
});

Deno.test("the persona cache through the SDK: a small persona falls back to plain calls", async () => {
  const events: string[] = [];
  await withBroker({ onEvent: (e) => events.push(e.type) }, async (fake, broker) => {
    await broker.verifyKeys();
    await until(() => events.includes("cache_fallback"), "the fallback");
    const result = await broker.generate({ priority: "chat", contents: CONTENTS });
    assert.equal(result.ok, true);
    assert.deepEqual(generates(fake)[0].body.systemInstruction.parts, [{ text: "너는 소예야." }]);
    assert.equal(generates(fake)[0].body.cachedContent, undefined);
  });
});

const CHANNEL = "1200000000000000001";
const GUILD = "1300000000000000001";

Deno.test("end to end: a 12 s wait for quota shows one ⏳ message, edited every 5 s, deleted before the answer", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    world.gemini.fail429({ kind: "minute", retryDelaySeconds: 12 }).reply("기다려줘서 고마워.");
    await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "안녕?",
      mentionsBot: true,
      username: "민수",
    });
    const messages = `/channels/${CHANNEL}/messages`;
    await until(
      () =>
        world.discord.messagesIn(CHANNEL).some((m) =>
          m.author.bot && !m.deleted && m.content === "기다려줘서 고마워."
        ),
      "the answer",
      25_000,
    );
    const posts = world.discord.requests.filter((r) => r.method === "POST" && r.path === messages);
    const waiting = posts.filter((r) => (r.body as { content: string }).content.startsWith("⏳"));
    assert.equal(waiting.length, 1, "exactly one ⏳ message");
    // The seconds each message shows, as the user read them. Timers never fire early but a loaded
    // machine fires them late, so what is asserted holds at any speed: the ⏳ message says the
    // wait, and each edit comes no sooner than 5 s after the last (the countdown's own schedule
    // is tested on a controlled clock in lib/reply/countdown_test.ts).
    const secondsIn = (r: { body: unknown }) =>
      [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0].find((n) =>
        (r.body as { content: string }).content === text.waiting(n)
      );
    const posted = secondsIn(waiting[0]);
    assert.ok(posted !== undefined && posted >= 10, `the ⏳ message says ${posted} s`);
    const id = world.discord.messagesIn(CHANNEL).find((m) => m.content.startsWith("⏳"))!.id;
    const edits = world.discord.requests.filter((r) =>
      r.method === "PATCH" && r.path === `${messages}/${id}`
    );
    const deletes = world.discord.requests.filter((r) =>
      r.method === "DELETE" && r.path === `${messages}/${id}`
    );
    const shown = edits.map(secondsIn);
    // Within 12 s, every 5 s: one or two edits, never one a second.
    assert.ok(edits.length >= 1 && edits.length <= 2, `${edits.length} edits: ${shown}`);
    for (const [i, seconds] of shown.entries()) {
      assert.ok(seconds !== undefined && seconds <= 12 - 5 * (i + 1), `edit ${i + 1}: ${shown}`);
    }
    assert.equal(deletes.length, 1);
    const answer = posts.find((r) => !(r.body as { content: string }).content.startsWith("⏳"))!;
    assert.ok(deletes[0].at <= answer.at, "the ⏳ message goes before the answer comes");
    assert.ok(world.discord.requests.indexOf(deletes[0]) < world.discord.requests.indexOf(answer));
    assert.deepEqual(world.discord.invalidRequests, []);
  } finally {
    await world.close();
  }
});

/** Sends "멘션 + content" as 민수 in CHANNEL; resolves with the time it was sent. */
async function mention(world: World, content: string): Promise<number> {
  const sentAt = Date.now();
  await world.discord.sendUserMessage({
    channelId: CHANNEL,
    guildId: GUILD,
    content,
    mentionsBot: true,
    username: "민수",
  });
  return sentAt;
}

Deno.test("end to end: a key refused once is told to the user, and /status says when it is tried again", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    world.gemini.failStatus(403).reply("다시 됐어.");
    await mention(world, "안녕?");
    await until(() => world.botMessages(CHANNEL).includes(text.rejected), "the notice");
    const { id } = await world.discord.sendInteraction({
      channelId: CHANNEL,
      guildId: GUILD,
      name: "status",
    });
    await until(() => world.discord.interaction(id)?.original !== undefined, "the /status reply");
    const status = world.discord.interaction(id)!.original!.content;
    // Not an hour out of use: checked again in a minute (the schedule is in the broker's tests).
    assert.match(status, /key1: 이번 분 0회, 오늘 0회 남음 \(서버가 거절해서 쉬는 중, 약 1분 뒤에/);
    assert.deepEqual(world.discord.invalidRequests, []);
  } finally {
    await world.close();
  }
});

Deno.test("end to end: a hanging Gemini gets the user a notice within GEMINI_MAX_WAIT_SECONDS", async () => {
  const world = await World.create();
  try {
    await world.startBot({ GEMINI_TIMEOUT_SECONDS: "2", GEMINI_MAX_WAIT_SECONDS: "6" });
    for (let i = 0; i < 5; i++) world.gemini.slowFirstByte(120_000);
    const sentAt = await mention(world, "안녕?");
    await until(() => world.botMessages(CHANNEL).includes(text.unavailable), "the notice", 40_000);
    const notice = world.discord.messagesIn(CHANNEL).find((m) => m.content === text.unavailable)!;
    const waitedMs = Date.parse(notice.timestamp) - sentAt;
    // Without the bound, five 2 s attempts and their backoff keep the user 20 s or more.
    assert.ok(waitedMs < 9000, `the notice came after ${waitedMs} ms`);
    assert.ok(world.generateRequests().length >= 2, "the call was retried inside the bound");
  } finally {
    await world.close();
  }
});

Deno.test("end to end: a slow, healthy answer longer than GEMINI_TIMEOUT_SECONDS arrives whole", async () => {
  const world = await World.create();
  try {
    await world.startBot({ GEMINI_TIMEOUT_SECONDS: "3" });
    const answer = "하나, 둘, 셋, 넷, 다섯, 여섯, 일곱, 여덟, 아홉. 천천히 다 셌어.";
    // Nine chunks a second apart: eight seconds of stream, never three seconds of silence.
    world.gemini.script({ text: answer, chunks: 9, chunkDelayMs: 1000 });
    await mention(world, "아홉까지 세어줘");
    await until(
      () => world.botMessages(CHANNEL).some((m) => m === answer || m.includes(text.interrupted)),
      "the whole answer, or its cut",
      30_000,
    );
    assert.deepEqual(world.botMessages(CHANNEL), [answer]);
    assert.equal(world.generateRequests().length, 1);
  } finally {
    await world.close();
  }
});
