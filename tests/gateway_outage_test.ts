/**
 * Gateway outages, end to end: the real bot process against a fake gateway that goes down,
 * refuses connections for a while and comes back, as Discord's does.
 */
import assert from "node:assert/strict";
import { until, World } from "./harness.ts";

const CHANNEL = "1200000000000000001";
const GUILD = "1300000000000000001";

/** The bot's messages replying to message `id`. */
function repliesTo(world: World, id: string): string[] {
  return world.discord.messagesIn(CHANNEL)
    .filter((m) => m.author.bot && !m.deleted && m.message_reference?.message_id === id)
    .map((m) => m.content);
}

/** A few dozen attempts for all three outages: backoff, not a storm (that was ~700 a second). */
const MAX_ATTEMPTS = 24;

Deno.test("outages of 2, 5 and 8 s are ridden out with backoff and RESUME; the message sent meanwhile is answered", async () => {
  const world = await World.create();
  try {
    await world.startBot();
    const attemptsAtStart = world.discord.gatewayConnectionAttempts;
    const asked: { id: string }[] = [];
    for (const [step, seconds] of [2, 5, 8].entries()) {
      const answer = `돌아왔어 ${step}`;
      world.gemini.reply(answer);
      const over = world.discord.gatewayOutage(seconds * 1000);
      asked.push(
        await world.discord.sendUserMessage({
          channelId: CHANNEL,
          guildId: GUILD,
          content: `${seconds}초 동안 끊겼어?`,
          mentionsBot: true,
        }),
      );
      await over;
      const back = () => world.discord.resumed > step || world.discord.identified > 1;
      await until(back, `the bot back after the ${seconds} s outage`, 20_000);
      const attempts = world.discord.gatewayConnectionAttempts - attemptsAtStart;
      assert.ok(
        attempts <= MAX_ATTEMPTS,
        `${attempts} connection attempts by the ${seconds} s outage`,
      );
      assert.equal(
        world.discord.identified,
        1,
        `IDENTIFY, not RESUME, after the ${seconds} s outage`,
      );
      await until(() => world.botMessages(CHANNEL).at(-1) === answer, `answer ${step}`, 20_000);
    }
    assert.equal(world.discord.resumed, 3);
    // A RESUME from an older sequence gets the same MESSAGE_CREATE again, long after its answer.
    world.discord.dispatch("MESSAGE_CREATE", asked[0]);
    const done = "새 질문에만 대답해.";
    world.gemini.reply(done);
    const last = await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "하나 더",
      mentionsBot: true,
    });
    // The channel's turns run in order: an answer to the replay would be posted before this one,
    // and take the scripted text. The answer streams, so wait for its last edit too.
    await until(
      () => world.botMessages(CHANNEL).includes(done) && repliesTo(world, last.id).length > 0,
      "the whole answer to the last message",
    );
    for (const { id } of [...asked, last]) {
      assert.equal(repliesTo(world, id).length, 1, `message ${id} answered once`);
    }
    assert.deepEqual(world.botMessages(CHANNEL), [
      "돌아왔어 0",
      "돌아왔어 1",
      "돌아왔어 2",
      done,
    ]);
    assert.deepEqual(world.discord.invalidRequests, []);
  } finally {
    await world.close();
  }
});

Deno.test("a session Discord will no longer resume falls back to one IDENTIFY, then answers again", async () => {
  const world = await World.create({ discord: { resumeWindowMs: 500 } });
  try {
    await world.startBot();
    await world.discord.gatewayOutage(2000);
    await until(() => world.discord.identified === 2, "a fresh IDENTIFY", 20_000);
    assert.equal(world.discord.resumed, 0);
    assert.ok(world.discord.resumesRefused >= 1, "the bot never tried to RESUME first");
    world.gemini.reply("새 세션이야.");
    await world.discord.sendUserMessage({
      channelId: CHANNEL,
      guildId: GUILD,
      content: "다시 들려?",
      mentionsBot: true,
    });
    await until(() => world.botMessages(CHANNEL).at(-1) === "새 세션이야.", "the answer");
    assert.ok(world.discord.gatewayConnectionAttempts <= 10);
  } finally {
    await world.close();
  }
});

Deno.test("with no session starts left, the bot waits for reset_after instead of identifying", async () => {
  const resetAfterMs = 3000;
  const world = await World.create();
  try {
    const bot = await world.startBot();
    world.discord.setSessionStartLimit({ total: 5, remaining: 0, resetAfterMs });
    const droppedAt = Date.now();
    // 4009 (session timed out) means a new session, and none may be started until the reset.
    world.discord.dropConnection(4009);
    await bot.waitForOutput(/session_start_limit/, 5000);
    await until(() => world.discord.identified === 2, "the IDENTIFY after the reset", 15_000);
    const identifies = world.discord.gatewayReceived.filter((p) => p.op === 2);
    assert.equal(identifies.length, 2);
    assert.equal(world.discord.identifiesOverLimit, 0);
    assert.ok(Date.now() - droppedAt >= resetAfterMs, "identified before reset_after");
  } finally {
    await world.close();
  }
});
