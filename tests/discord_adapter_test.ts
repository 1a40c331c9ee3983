/**
 * The Discord adapter (lib/discord.ts) in-process against the fake Discord: the second line of
 * the URL checks, for ids that reach a REST method without passing the gateway edge.
 */
import assert from "node:assert/strict";
import { connectDiscord } from "../lib/discord.ts";
import { FakeDiscord } from "./fakes/fake_discord.ts";

const CHANNEL = "1400000000000000001";
const MESSAGE = "1600000000000000001";
const INTERACTION = "1700000000000000001";

Deno.test("the adapter's REST methods refuse ids and tokens that would steer the URL", async () => {
  const fake = await FakeDiscord.start();
  const discord = await connectDiscord(
    { token: fake.token, apiUrl: fake.url },
    { onMessage: () => {}, onCommand: () => {} },
  );
  try {
    await fake.waitForReady();
    const before = fake.requests.length;
    const path = "../../users/@me";
    const calls: [string, () => Promise<unknown>][] = [
      ["sendMessage", () => discord.sendMessage(path, "hi")],
      ["editMessage channel", () => discord.editMessage(path, MESSAGE, "hi")],
      ["editMessage message", () => discord.editMessage(CHANNEL, `${MESSAGE}/..`, "hi")],
      ["deleteMessage", () => discord.deleteMessage(CHANNEL, "@me")],
      ["triggerTyping", () => discord.triggerTyping(path)],
      ["getMessages channel", () => discord.getMessages(path, { limit: 10 })],
      [
        "getMessages before",
        () => discord.getMessages(CHANNEL, { before: "1&limit=100", limit: 1 }),
      ],
      ["deferInteraction id", () => discord.deferInteraction(`${INTERACTION}/..`, "token")],
      ["deferInteraction token", () => discord.deferInteraction(INTERACTION, "a/../../b")],
      ["replyToInteraction", () => discord.replyToInteraction(INTERACTION, "..", "hi")],
      ["editInteractionReply", () => discord.editInteractionReply("x/../../y", "hi")],
      ["followUpInteraction", () => discord.followUpInteraction("x?y", "hi")],
      ["registerCommands", () => discord.registerCommands([], "../1")],
    ];
    for (const [name, call] of calls) {
      await assert.rejects(call, TypeError, name);
    }
    assert.deepEqual(fake.requests.slice(before).map((r) => `${r.method} ${r.path}`), []);
  } finally {
    await discord.close();
    await fake.close();
  }
});
