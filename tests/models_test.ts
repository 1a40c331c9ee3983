/**
 * Models change: a `GEMINI_MODEL` Google does not serve (misspelt, or retired) is named in the
 * log with the models the key can use, at start (exit 2) and while running (once, with a short
 * reply to each user and no retries). The real bot process against the fakes.
 */
import assert from "node:assert/strict";
import { BotProcess, delay, GEMINI_KEY, until, World } from "./harness.ts";
import { text } from "../lib/text/strings_ko.ts";

const GUILD = "1300000000000000001";
const FAST = { GEMINI_RPM: "1000", GEMINI_RPD: "100000" };

Deno.test("GEMINI_MODEL=gemini-2.5-flash, retired, stops the start with exit 2 naming current models", async () => {
  // The fake of today: 2.5 answers 404 "no longer available to new users", models.list names 3.x.
  const world = await World.create();
  try {
    const bot = new BotProcess(world.env({ ...FAST, GEMINI_MODEL: "gemini-2.5-flash" }));
    // A bot that starts anyway is stopped, so the test fails rather than hangs.
    const status = await Promise.race([
      bot.exited,
      delay(15_000).then(() => bot.stop("SIGKILL")),
    ]);
    assert.equal(status.code, 2, bot.output);
    assert.match(
      bot.output,
      /GEMINI_MODEL=gemini-2\.5-flash was not found \(404\).*: gemini-3\.5-flash-lite, gemini-3\.8-flash/,
    );
    assert.ok(
      world.gemini.requests.some((r) => r.action === "models.list"),
      "models.list was asked",
    );
    assert.equal(world.discord.identified, 0, "Discord never heard of a bot that cannot answer");
    assert.ok(!bot.output.includes(GEMINI_KEY), "the key stays out of the log");
  } finally {
    await world.close();
  }
});

Deno.test("GEMINI_MODEL=gemini-3.8-flash answers, at its own levels, with no WARN of an unknown model", async () => {
  const world = await World.create();
  try {
    const bot = await world.startBot({ ...FAST, GEMINI_MODEL: "gemini-3.8-flash" });
    await world.discord.sendUserMessage({
      channelId: "1400000000000000009",
      guildId: GUILD,
      content: "삼점팔 안녕",
      mentionsBot: true,
    });
    await until(
      () => world.botMessages("1400000000000000009").some((m) => m.includes("삼점팔 안녕")),
      "the answer",
    );
    const chat = world.generateRequests().at(-1)!;
    assert.equal(chat.model, "gemini-3.8-flash");
    assert.equal(chat.status, 200);
    assert.ok(!/not in the model table/.test(bot.output), bot.output);
  } finally {
    await world.close();
  }
});

Deno.test("GEMINI_THINKING=minimal on 3.8 Flash, or a GEMINI_THINKING_BUDGET left over, stops the start with exit 2", async () => {
  const world = await World.create();
  try {
    for (
      const [env, pattern] of [
        [
          { GEMINI_MODEL: "gemini-3.8-flash", GEMINI_THINKING: "minimal" },
          /GEMINI_THINKING must be one of low, medium, high/,
        ],
        [
          { GEMINI_THINKING_BUDGET: "0" },
          /GEMINI_THINKING_BUDGET is no longer read.*GEMINI_THINKING/,
        ],
      ] as const
    ) {
      const bot = new BotProcess(world.env({ ...FAST, ...env }));
      const status = await Promise.race([
        bot.exited,
        delay(15_000).then(() => bot.stop("SIGKILL")),
      ]);
      assert.equal(status.code, 2, bot.output);
      assert.match(bot.output, pattern);
    }
    assert.equal(world.gemini.requests.length, 0, "no call spent finding out");
  } finally {
    await world.close();
  }
});

Deno.test("an unknown model is WARNed about, and its refusal of the configured level is learned once", async () => {
  const model = "gemini-4-flash-preview";
  const world = await World.create({
    gemini: { models: [model], refusedLevels: { [model]: ["high"] } },
  });
  try {
    const bot = await world.startBot({ ...FAST, GEMINI_MODEL: model, GEMINI_THINKING: "high" });
    await bot.waitForOutput(
      /GEMINI_MODEL=\W{0,2}gemini-4-flash-preview\W{0,2} is not in the model table/,
    );
    const channelId = "1400000000000000011";
    for (const word of ["첫째", "둘째"]) {
      await world.discord.sendUserMessage({
        channelId,
        guildId: GUILD,
        content: word,
        mentionsBot: true,
      });
      await until(() => world.botMessages(channelId).some((m) => m.includes(word)), word);
    }
    const lines = bot.output.split("\n").filter((l) => /refuses thinking level/.test(l));
    assert.equal(lines.length, 1, bot.output);
    const levels = world.generateRequests().map((r) =>
      r.body.generationConfig?.thinkingConfig?.thinkingLevel
    );
    assert.deepEqual(levels, ["high", undefined, undefined], "refused once, then never sent");
  } finally {
    await world.close();
  }
});

Deno.test("a model retired while running: a short reply each, one log line, no retries", async () => {
  const world = await World.create();
  try {
    const bot = await world.startBot(FAST);
    world.gemini.serveModels(["gemini-3.8-flash", "gemini-3.6-flash"]);
    const channels = ["1400000000000000001", "1400000000000000002", "1400000000000000003"];
    for (const [i, channelId] of channels.entries()) {
      await world.discord.sendUserMessage({
        channelId,
        guildId: GUILD,
        content: `모델 없어? ${i}`,
        mentionsBot: true,
        authorId: `120000000000000000${i + 2}`,
      });
      await until(
        () => world.botMessages(channelId).includes(text.modelGone),
        `the notice in ${channelId}`,
      );
    }
    assert.equal(world.generateRequests().length, channels.length, "one call each, no retry");
    await bot.waitForOutput(/GEMINI_MODEL=gemini-3\.5-flash-lite was not found/);
    const lines = bot.output.split("\n").filter((l) => l.includes("was not found (404)"));
    assert.equal(lines.length, 1, bot.output);
    assert.match(lines[0], /gemini-3\.8-flash, gemini-3\.6-flash/);
  } finally {
    await world.close();
  }
});
