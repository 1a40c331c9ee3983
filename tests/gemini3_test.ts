/**
 * The bot as it must run in December 2026, end to end: the real bot process against the fake
 * Gemini of today (3.x models, thought signatures, thinking levels) with nothing but a Discord
 * token and a Gemini key set (and where the fakes are).
 */
import assert from "node:assert/strict";
import { fakeSignature, type RecordedRequest } from "./fakes/fake_gemini.ts";
import { BotProcess, delay, fakesEnv, until, World } from "./harness.ts";
import { text } from "../lib/text/strings_ko.ts";

const GUILD = "1300000000000000001";
const CHANNEL = "1200000000000000061";

/** The model turns of a request, each as its parts. */
function modelTurns(request: RecordedRequest): Record<string, unknown>[][] {
  return (request.body.contents as { role: string; parts: Record<string, unknown>[] }[])
    .filter((c) => c.role === "model").map((c) => c.parts);
}

/** Starts the bot with only the two secrets (and the fakes' addresses) set. */
async function startPlain(world: World): Promise<BotProcess> {
  const bot = new BotProcess(fakesEnv(world.discord, world.gemini, world.dataDir));
  const deadline = Date.now() + 15_000;
  while (world.discord.identified === 0) {
    if (Date.now() > deadline) throw new Error(`bot never identified:\n${bot.output}`);
    const status = await Promise.race([bot.exited, delay(20).then(() => undefined)]);
    if (status) throw new Error(`bot exited with ${status.code}:\n${bot.output}`);
  }
  await world.discord.waitForReady();
  return bot;
}

Deno.test("with only DISCORD_TOKEN and GEMINI_API_KEY: three turns answered, each model turn sent back with its signature", async () => {
  const world = await World.create();
  let bot: BotProcess | undefined;
  try {
    bot = await startPlain(world);
    for (const [i, word] of ["하나", "둘", "셋"].entries()) {
      await world.mention(CHANNEL, GUILD, word);
      await until(
        () => world.botMessages(CHANNEL).some((m) => m.includes(`"민수: ${word}"`)),
        `answer ${i + 1}`,
      );
    }
    const chats = world.generateRequests();
    assert.equal(chats.length, 3, "one call a turn");
    assert.ok(chats.every((r) => r.status === 200), "every request taken");
    assert.ok(chats.every((r) => r.model === "gemini-3.5-flash-lite"), "the default model");
    for (const [i, request] of chats.entries()) {
      // Each earlier answer comes back as Gemini sent it: its text, then its signature's part.
      const sentBack = modelTurns(request);
      assert.equal(sentBack.length, i, `request ${i + 1} carries the ${i} answers before it`);
      for (const [j, parts] of sentBack.entries()) {
        const answer = world.generateRequests()[j];
        assert.deepEqual(parts.at(-1), {
          text: "",
          thoughtSignature: fakeSignature(`fake-${world.gemini.requests.indexOf(answer)}`),
        });
        assert.match(String(parts[0].text), /말이지/);
      }
      const body = request.body;
      assert.equal(body.contents.at(-1).role, "user", "the last content is the user's");
      for (const knob of ["temperature", "topP", "topK", "frequencyPenalty", "presencePenalty"]) {
        assert.equal(body.generationConfig?.[knob], undefined, `no ${knob}`);
      }
      assert.equal(body.generationConfig?.thinkingConfig?.thinkingBudget, undefined);
    }
  } finally {
    await bot?.stop();
    await world.close();
  }
});

Deno.test("signatures survive a restart: stored with the window, sent back by the next process", async () => {
  const world = await World.create();
  try {
    const first = await world.startBot();
    await world.mention(CHANNEL, GUILD, "기억해");
    await until(() => world.botMessages(CHANNEL).length === 1, "the first answer");
    await first.stop();
    await world.startBot();
    await world.mention(CHANNEL, GUILD, "아직 기억해?");
    await until(() => world.generateRequests().length === 2, "the second call");
    const [parts] = modelTurns(world.generateRequests()[1]);
    const firstCall = world.gemini.requests.indexOf(world.generateRequests()[0]);
    assert.equal(parts.at(-1)?.thoughtSignature, fakeSignature(`fake-${firstCall}`));
  } finally {
    await world.close();
  }
});

Deno.test("an unusual finish reason gets a short notice, logged and counted by reason, never retried", async () => {
  const world = await World.create();
  try {
    const bot = await world.startBot();
    world.gemini.script({ text: "", finishReason: "MALFORMED_RESPONSE" });
    await world.mention(CHANNEL, GUILD, "하나");
    await until(() => world.botMessages(CHANNEL).includes(text.modelFault), "the notice");
    world.gemini.script({ text: "반쯤 한 대답", finishReason: "MISSING_THOUGHT_SIGNATURE" });
    await world.mention(CHANNEL, GUILD, "둘");
    await until(
      () => world.botMessages(CHANNEL).some((m) => m.includes(text.cutByFault)),
      "the answer with its note",
    );
    assert.ok(world.botMessages(CHANNEL).some((m) => m.startsWith("반쯤 한 대답")));
    assert.equal(world.generateRequests().length, 2, "neither was retried");
    await bot.waitForOutput(/unusual_finish.*MALFORMED_RESPONSE/);
    await bot.waitForOutput(/unusual_finish.*MISSING_THOUGHT_SIGNATURE/);
  } finally {
    await world.close();
  }
});

Deno.test("a blocked prompt (promptFeedback.blockReason, no candidates) gets the blocked notice", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    world.gemini.replay("gemini-3/vercel-ai/stream-3.7-flash-prompt-blocked.txt");
    await world.mention(CHANNEL, GUILD, "막힐 말");
    await until(() => world.botMessages(CHANNEL).includes(text.blocked), "the blocked notice");
    assert.equal(world.generateRequests().length, 1, "not retried");
  } finally {
    await world.close();
  }
});
