/**
 * The Discord adapter (lib/discord/adapter.ts) in-process against the fake Discord: the second line of
 * the URL checks, for ids that reach a REST method without passing the gateway edge.
 */
import assert from "node:assert/strict";
import { connectDiscord } from "../lib/discord/adapter.ts";
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

Deno.test("close() leaves no REST queue timer that would hold the process open", async () => {
  // Each REST route keeps its queue for a minute after its last request, so a channel's next
  // answer reuses it; close() must clear those timers, or a process that ends by draining its
  // event loop waits out the minute. Measured in a child process, which exits only when drained.
  const root = new URL("../", import.meta.url);
  const script = `
    import { connectDiscord } from "${new URL("lib/discord/adapter.ts", root)}";
    import { FakeDiscord } from "${new URL("tests/fakes/fake_discord.ts", root)}";
    const fake = await FakeDiscord.start();
    const discord = await connectDiscord(
      { token: fake.token, apiUrl: fake.url },
      { onMessage: () => {}, onCommand: () => {} },
    );
    await fake.waitForReady();
    await discord.sendMessage("${CHANNEL}", "hi");
    await discord.editMessage("${CHANNEL}", "${MESSAGE}", "hi").catch(() => {});
    await discord.close();
    await fake.close();
    console.log("closed");
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const limitMs = 20_000;
  const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  const output = await child.output();
  clearTimeout(timer);
  const stdout = new TextDecoder().decode(output.stdout);
  assert.match(stdout, /closed/, new TextDecoder().decode(output.stderr));
  assert.equal(output.signal, null, `the process was still running ${limitMs} ms after close()`);
  assert.equal(output.code, 0);
});
