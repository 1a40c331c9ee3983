/**
 * Models change: a `GEMINI_MODEL` Google does not serve (misspelt, or retired) is named in the
 * log with the models the key can use, at start (exit 2) and while running (once, with a short
 * reply to each user and no retries). The real bot process against the fakes.
 */
import assert from "node:assert/strict";
import { BotProcess, delay, GEMINI_KEY, until, World } from "./harness.ts";
import { text } from "../lib/strings_ko.ts";

const GUILD = "1300000000000000001";
const FAST = { GEMINI_RPM: "1000", GEMINI_RPD: "100000" };

Deno.test("a GEMINI_MODEL that answers 404 at start exits 2, naming it and the usable models", async () => {
  const world = await World.create({
    gemini: { models: ["gemini-2.5-flash", "gemini-2.5-flash-lite"] },
  });
  try {
    const bot = new BotProcess(world.env({ ...FAST, GEMINI_MODEL: "gemini-1.5-flash" }));
    // A bot that starts anyway is stopped, so the test fails rather than hangs.
    const status = await Promise.race([
      bot.exited,
      delay(15_000).then(() => bot.stop("SIGKILL")),
    ]);
    assert.equal(status.code, 2, bot.output);
    assert.match(
      bot.output,
      /GEMINI_MODEL=gemini-1\.5-flash was not found \(404\).*: gemini-2\.5-flash, gemini-2\.5-flash-lite/,
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

Deno.test("a model retired while running: a short reply each, one log line, no retries", async () => {
  const world = await World.create();
  try {
    const bot = await world.startBot(FAST);
    world.gemini.serveModels(["gemini-2.5-pro", "gemini-3-flash"]);
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
    await bot.waitForOutput(/GEMINI_MODEL=gemini-2\.5-flash was not found/);
    const lines = bot.output.split("\n").filter((l) => l.includes("was not found (404)"));
    assert.equal(lines.length, 1, bot.output);
    assert.match(lines[0], /gemini-2\.5-pro, gemini-3-flash/);
  } finally {
    await world.close();
  }
});
