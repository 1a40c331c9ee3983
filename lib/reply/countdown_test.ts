import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { Countdown } from "./countdown.ts";
import { text } from "../text/strings_ko.ts";

/** Records the Discord calls a countdown makes, each with the clock's time. */
function recorder(clock: ManualClock) {
  const calls: { op: string; at: number; content?: string }[] = [];
  let next = 1;
  const discord = {
    sendMessage(_channel: string, content: string) {
      calls.push({ op: "post", at: clock.now(), content });
      return Promise.resolve(`m${next++}`);
    },
    editMessage(_channel: string, _id: string, content: string) {
      calls.push({ op: "edit", at: clock.now(), content });
      return Promise.resolve();
    },
    deleteMessage() {
      calls.push({ op: "delete", at: clock.now() });
      return Promise.resolve();
    },
  };
  return { discord, calls };
}

Deno.test("one message, edited every 5 s (not every second), deleted when cleared", async () => {
  const clock = new ManualClock(0);
  const { discord, calls } = recorder(clock);
  const countdown = new Countdown({ discord, channelId: "c", clock });
  countdown.show(23_000);
  await clock.tick(20_000);
  await countdown.clear();
  assert.deepEqual(calls, [
    { op: "post", at: 0, content: text.waiting(23) },
    { op: "edit", at: 5000, content: text.waiting(18) },
    { op: "edit", at: 10_000, content: text.waiting(13) },
    { op: "edit", at: 15_000, content: text.waiting(8) },
    { op: "edit", at: 20_000, content: text.waiting(3) },
    { op: "delete", at: 20_000 },
  ]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("paused while a call runs, resumed by a retry's wait: still one message", async () => {
  const clock = new ManualClock(0);
  const { discord, calls } = recorder(clock);
  const countdown = new Countdown({ discord, channelId: "c", clock });
  countdown.show(7000);
  await clock.tick(7000);
  countdown.pause(); // the call starts
  await clock.tick(20_000); // no edits while it runs
  countdown.show(clock.now() + 30_000); // it failed: a retry in 30 s
  await clock.tick(5000);
  await countdown.clear();
  assert.deepEqual(calls.map((c) => [c.op, c.at, c.content]), [
    ["post", 0, text.waiting(7)],
    ["edit", 5000, text.waiting(2)],
    ["edit", 27_000, text.waiting(30)], // corrected at once, not 5 s later
    ["edit", 32_000, text.waiting(25)],
    ["delete", 32_000, undefined],
  ]);
  assert.equal(calls.filter((c) => c.op === "post").length, 1);
});

Deno.test("an edit that would not change the text is skipped", async () => {
  const clock = new ManualClock(0);
  const { discord, calls } = recorder(clock);
  const countdown = new Countdown({ discord, channelId: "c", clock });
  countdown.show(6000);
  await clock.tick(20_000); // 1 s left at 5 s, then "soon" from 10 s on: one edit each
  assert.deepEqual(calls.map((c) => c.content), [
    text.waiting(6),
    text.waiting(1),
    text.waiting(0),
  ]);
  await countdown.clear();
});

Deno.test("clear() returns one promise; the delete waits for a post still in flight", async () => {
  const clock = new ManualClock(0);
  const { discord, calls } = recorder(clock);
  const posted = Promise.withResolvers<string>();
  discord.sendMessage = (_c: string, content: string) => {
    calls.push({ op: "post", at: clock.now(), content });
    return posted.promise;
  };
  const countdown = new Countdown({ discord, channelId: "c", clock });
  countdown.show(10_000);
  const first = countdown.clear();
  assert.equal(countdown.clear(), first);
  assert.equal(countdown.cleared, true);
  posted.resolve("m9");
  await first;
  assert.deepEqual(calls.map((c) => c.op), ["post", "delete"]);
  countdown.show(50_000); // too late: nothing more
  await clock.tick(10_000);
  assert.equal(calls.length, 2);
});

Deno.test("a failed post is reported and nothing is edited or deleted", async () => {
  const clock = new ManualClock(0);
  const { discord, calls } = recorder(clock);
  discord.sendMessage = () => Promise.reject(new Error("403 Missing Permissions"));
  const errors: unknown[] = [];
  const countdown = new Countdown({
    discord,
    channelId: "c",
    clock,
    onError: (e) => errors.push(e),
  });
  countdown.show(30_000);
  await clock.tick(10_000);
  await countdown.clear();
  assert.equal(errors.length, 1);
  assert.deepEqual(calls, []);
});
