/**
 * How an answer reaches Discord, end to end: the real bot (started as `deno task start` starts
 * it) against the fakes, with the fake Gemini streaming awkward answers and the fake Discord
 * refusing posts and edits with 5xx for a while. What the user sees, and what history records.
 */
import assert from "node:assert/strict";
import { text } from "../lib/text/strings_ko.ts";
import { type BotProcess, turns, until, World } from "./harness.ts";

const GUILD = "1300000000000000061";
const CHANNEL = "1200000000000000061";
const OTHER_CHANNEL = "1200000000000000062";
const POSTS = new RegExp(`^/channels/${CHANNEL}/messages$`);
const EDITS = new RegExp(`^/channels/${CHANNEL}/messages/\\d+$`);

async function mention(world: World, content: string, channelId = CHANNEL): Promise<void> {
  await world.mention(channelId, GUILD, content);
}

/** Starts the bot with the ops endpoints on an ephemeral port; returns it and their base URL. */
async function startWithHttp(world: World): Promise<{ bot: BotProcess; base: string }> {
  const bot = await world.startBot({ HTTP_PORT: "0" });
  const pattern = /Operations endpoints on http:\/\/([\d.]+):(\d+)\//;
  await bot.waitForOutput(pattern);
  const [, host, port] = bot.output.match(pattern)!;
  return { bot, base: `http://${host}:${port}` };
}

/** The model turns of the latest Gemini request: what history says the bot said. */
async function historyAfterNextMessage(world: World): Promise<string[]> {
  const before = world.generateRequests().length;
  world.gemini.reply("다음 대답.");
  await mention(world, "그다음 질문");
  await until(() => world.generateRequests().length > before, "the next Gemini call", 15_000);
  return turns(world.generateRequests()[before]).filter(([role]) => role === "model").map((
    [, said],
  ) => said);
}

Deno.test("a whitespace-only answer gets a short notice, and everyone else is still answered", async () => {
  const world = await World.create();
  try {
    const { bot, base } = await startWithHttp(world);
    world.gemini.script({ text: "\n", chunks: 1 });
    await mention(world, "띄어쓰기 하나로만 대답해줘");
    await until(() => world.botMessages(CHANNEL).length > 0, "the notice for the empty answer");
    assert.deepEqual(world.botMessages(CHANNEL), [text.emptyAnswer]);

    // A first chunk of whitespace, then text: the text shows as usual.
    world.gemini.script({ text: "\n\n좋아", chunks: 2 });
    await mention(world, "이번엔 제대로", OTHER_CHANNEL);
    await until(
      () => world.botMessages(OTHER_CHANNEL).at(-1)?.trim() === "좋아",
      "the other channel's answer",
    );
    const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const status = await bot.stop("SIGTERM");
    assert.equal(status.code, 0, "SIGTERM is heard and the bot shuts down cleanly");
  } finally {
    await world.close();
  }
});

Deno.test("an answer Discord refused to post for 2.5 s arrives whole once Discord recovers", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    const answer = "디스코드가 잠깐 아팠지만 이 대답은 끝까지 다 보여야 해. 하나도 빠짐없이.";
    world.gemini.reply(answer);
    world.discord.serverErrorsFor("POST", POSTS, { ms: 2_500, status: 500 });
    await mention(world, "길게 말해줘");
    await until(() => world.botMessages(CHANNEL).at(-1) === answer, "the whole answer", 20_000);
    assert.deepEqual(world.botMessages(CHANNEL), [answer], "one message, no notice, no duplicate");
    const statuses = world.discord.requestsTo("POST", POSTS).map((r) => r.status);
    assert.ok(statuses.includes(500) && statuses.at(-1) === 200, `posts: ${statuses}`);
    assert.ok(statuses.length <= 12, `${statuses.length} posts in 2.5 s is hammering Discord`);
    assert.deepEqual(await historyAfterNextMessage(world), [answer]);
    assert.deepEqual(world.discord.invalidRequests, []);
  } finally {
    await world.close();
  }
});

Deno.test("an answer whose edits Discord refused for 3 s ends up complete", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    const answer = "처음 조각은 바로 올라가고, 나머지는 편집으로 붙어야 하는데, 편집이 3초 동안 " +
      "502로 막혀도 결국 메시지에는 이 문장이 끝까지 다 들어 있어야 해. 중간에 잘린 채로 남으면 " +
      "안 되고, 기록에도 보인 그대로 남아야 해.";
    world.gemini.script({ text: answer, chunks: 4, chunkDelayMs: 300 });
    world.discord.serverErrorsFor("PATCH", EDITS, { ms: 3_000, status: 502 });
    await mention(world, "길게 말해줘");
    await until(() => world.botMessages(CHANNEL).at(-1) === answer, "the whole answer", 20_000);
    assert.deepEqual(world.botMessages(CHANNEL), [answer]);
    const edits = world.discord.requestsTo("PATCH", EDITS).map((r) => r.status);
    assert.ok(edits.includes(502) && edits.at(-1) === 200, `edits: ${edits}`);
    assert.deepEqual(await historyAfterNextMessage(world), [answer]);
  } finally {
    await world.close();
  }
});

Deno.test("when Discord refuses the edits for good, the user is told and history keeps only what they saw", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    const answer = "앞부분만 보이고 뒷부분은 끝내 못 보여준 대답이야. 기록에는 앞부분만 남아야 해.";
    world.gemini.script({ text: answer, chunks: 4, chunkDelayMs: 300 });
    world.discord.serverErrorsFor("PATCH", EDITS, { ms: Infinity, status: 502 });
    await mention(world, "말해줘");
    // The final text is retried for 30 s (FINAL_RETRY_MS) before the user is told.
    await until(() => world.botMessages(CHANNEL).length === 2, "the notice", 45_000);
    const [shown, notice] = world.botMessages(CHANNEL);
    assert.equal(notice, text.replyNotShown);
    assert.ok(answer.startsWith(shown) && shown.length < answer.length, `shown: ${shown}`);
    assert.deepEqual(await historyAfterNextMessage(world), [shown]);
  } finally {
    await world.close();
  }
});

Deno.test("an answer cut by MAX_TOKENS or SAFETY is marked, its code block closed", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    const fence = "```";
    const cut = `예시야:\n${fence}ts\nconst a = 1;\nconst b`;
    world.gemini.script({ text: cut, finishReason: "MAX_TOKENS" });
    await mention(world, "코드 길게 보여줘");
    const closed = `${cut}\n${fence}`;
    await until(
      () => world.botMessages(CHANNEL).at(-1) === `${closed}\n\n${text.cutByLength}`,
      "the cut answer with its marker",
    );
    // A recorded stream: "No", then finishReason SAFETY.
    world.gemini.replay("sdk-js/streaming-failure-finish-reason-safety.txt");
    await mention(world, "계속해줘");
    await until(
      () => world.botMessages(CHANNEL).at(-1) === `No\n\n${text.cutByFilter}`,
      "the filtered answer with its marker",
    );
    // The markers are the bot's asides, not the model's words.
    assert.deepEqual(await historyAfterNextMessage(world), [closed, "No"]);
  } finally {
    await world.close();
  }
});

Deno.test("a MESSAGE_CREATE delivered twice is answered once and leaves no typing running", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    // Slow enough that typing is shown, and the duplicate arrives while the first is answered.
    world.gemini.script({ text: "한 번만 대답.", delayFirstMs: 1_000 });
    const message = await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "두 번 올 질문",
      mentionsBot: true,
      username: "민수",
    });
    const typing = () =>
      world.discord.requests.filter((r) =>
        r.method === "POST" && r.path === `/channels/${CHANNEL}/typing`
      ).length;
    await until(() => typing() > 0, "typing while the answer is slow");
    world.discord.dispatch("MESSAGE_CREATE", message);
    await until(() => world.botMessages(CHANNEL).includes("한 번만 대답."), "the answer");
    const typedByAnswer = typing();
    // A typing indicator renewed after the answer means a turn left it running (every 8 s).
    await new Promise((resolve) => setTimeout(resolve, 9_000));
    assert.equal(typing(), typedByAnswer, "no typing after the answer");
    assert.deepEqual(world.botMessages(CHANNEL), ["한 번만 대답."]);
  } finally {
    await world.close();
  }
});
