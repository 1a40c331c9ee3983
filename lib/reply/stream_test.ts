import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { FINAL_RETRY_MS, ReplyStream } from "./stream.ts";
import { text } from "../text/strings_ko.ts";

const FENCE = "```";

interface Call {
  at: number;
  op: "send" | "edit" | "delete";
  id: string;
  content?: string;
  replyTo?: string;
}

/** A Discord that records each call with the clock's time and keeps message contents. */
function fakeDiscord(clock: ManualClock, options: { failEdits?: number } = {}) {
  const calls: Call[] = [];
  const messages = new Map<string, string>();
  let next = 1;
  let failEdits = options.failEdits ?? 0;
  /** Refused calls, as Discord answering 5xx: every send or edit is refused while set. */
  const outage = { sends: false, edits: false, refused: 0 };
  return {
    calls,
    messages,
    outage,
    /** Contents of the messages still standing, in posting order. */
    visible: () => [...messages.values()],
    /** The buttons sent with each post or edit that set them, by message id. */
    buttons: [] as { id: string; components: unknown[] }[],
    sendMessage(
      _channelId: string,
      content: string,
      opts?: {
        replyTo?: string;
        components?: unknown[];
        latestComponents?(): unknown[] | undefined;
      },
    ) {
      if (outage.sends) {
        outage.refused++;
        return Promise.reject(new Error("500: Internal Server Error"));
      }
      const id = String(next++);
      calls.push({ at: clock.now(), op: "send", id, content, replyTo: opts?.replyTo });
      // As the adapter does: the rows read as the request leaves replace `components`.
      const rows = opts?.latestComponents ? opts.latestComponents() : opts?.components;
      if (rows) this.buttons.push({ id, components: rows });
      messages.set(id, content);
      return Promise.resolve(id);
    },
    editMessage(
      _channelId: string,
      id: string,
      content: string,
      opts?: { components?: unknown[]; latestComponents?(): unknown[] | undefined },
    ) {
      if (outage.edits) {
        outage.refused++;
        return Promise.reject(new Error("502: Bad Gateway"));
      }
      if (failEdits > 0) {
        failEdits--;
        return Promise.reject(new Error("500: Internal Server Error"));
      }
      calls.push({ at: clock.now(), op: "edit", id, content });
      const rows = opts?.latestComponents ? opts.latestComponents() : opts?.components;
      if (rows) this.buttons.push({ id, components: rows });
      messages.set(id, content);
      return Promise.resolve();
    },
    deleteMessage(_channelId: string, id: string) {
      calls.push({ at: clock.now(), op: "delete", id });
      messages.delete(id);
      return Promise.resolve();
    },
  };
}

function setup(options: { failEdits?: number } = {}) {
  const clock = new ManualClock(0);
  const discord = fakeDiscord(clock, options);
  const errors: unknown[] = [];
  let firstText = 0;
  const stream = new ReplyStream({
    discord,
    channelId: "c",
    replyTo: "u1",
    clock,
    onError: (error) => errors.push(error),
    onFirstText: () => firstText++,
  });
  return { clock, discord, stream, errors, firstText: () => firstText };
}

Deno.test("ReplyStream posts the first text at once, as a reply", async () => {
  const { clock, discord, stream, firstText } = setup();
  stream.update("안");
  await clock.tick(0);
  deepStrictEqual(discord.calls, [{ at: 0, op: "send", id: "1", content: "안", replyTo: "u1" }]);
  strictEqual(firstText(), 1);
  strictEqual(stream.started, true);
});

Deno.test("ReplyStream awaits beforeFirstText once, before the first post", async () => {
  const clock = new ManualClock(0);
  const discord = fakeDiscord(clock);
  const order: string[] = [];
  const stream = new ReplyStream({
    discord,
    channelId: "c",
    clock,
    beforeFirstText: async () => {
      await Promise.resolve();
      order.push(`cleared with ${discord.calls.length} calls`);
    },
  });
  stream.update("하나");
  await clock.tick(0);
  stream.update("하나 둘");
  const done = stream.finish("하나 둘 셋");
  await clock.tick(1000);
  await done;
  deepStrictEqual(order, ["cleared with 0 calls"]);
  // "하나 둘" was superseded by the final text before its (0 ms) timer fired.
  deepStrictEqual(discord.calls.map((c) => [c.op, c.content]), [
    ["send", "하나"],
    ["edit", "하나 둘 셋"],
  ]);
});

Deno.test("ReplyStream edits at most once per interval and shows the latest text", async () => {
  const { clock, discord, stream } = setup();
  stream.update("가");
  for (let t = 100; t <= 2500; t += 100) {
    await clock.tick(100);
    stream.update("가".repeat(t / 100 + 1));
  }
  const edits = discord.calls.filter((c) => c.op === "edit");
  // The first edit may follow the post at once; later ones keep the interval.
  deepStrictEqual(edits.map((c) => c.at), [100, 1100, 2100]);
  strictEqual(edits[1].content, "가".repeat(11), "the text as it was when the interval ended");
  const finished = stream.finish("가".repeat(26) + "!");
  await clock.tick(599);
  strictEqual(discord.calls.length, 4, "the final edit waits for the interval too");
  await clock.tick(1);
  await finished;
  const last = discord.calls.at(-1)!;
  deepStrictEqual([last.at, last.op, last.content], [3100, "edit", "가".repeat(26) + "!"]);
});

Deno.test("ReplyStream completes a fast answer without waiting for the interval", async () => {
  const { clock, discord, stream } = setup();
  stream.update("빠른");
  await clock.tick(50);
  await stream.finish("빠른 대답");
  deepStrictEqual(discord.calls.map((c) => [c.at, c.op, c.content]), [
    [0, "send", "빠른"],
    [50, "edit", "빠른 대답"],
  ]);
});

Deno.test("ReplyStream finishes at once when nothing was shown recently", async () => {
  const { clock, discord, stream } = setup();
  await stream.finish("요약 끝");
  deepStrictEqual(discord.calls.map((c) => [c.at, c.op, c.content]), [[0, "send", "요약 끝"]]);
  stream.update("늦게 온 글");
  await stream.finish("다시");
  await clock.tick(5000);
  strictEqual(discord.calls.length, 1, "a finished stream ignores later calls");
});

Deno.test("ReplyStream skips an edit when the text did not change", async () => {
  const { clock, discord, stream } = setup();
  stream.update("같은 말");
  await clock.tick(1500);
  const done = stream.finish("같은 말");
  await clock.tick(1000);
  await done;
  deepStrictEqual(discord.calls.map((c) => c.op), ["send"]);
});

Deno.test("ReplyStream continues past 2,000 characters in a new message, code block intact", async () => {
  const { clock, discord, stream } = setup();
  const prose = "설명하는 문장이야. ".repeat(120); // about 1,300 characters
  const code = Array.from({ length: 60 }, (_, i) => `const value${i} = ${i} * 2; // 계산`).join(
    "\n",
  );
  const full = `${prose}\n\n${FENCE}ts\n${code}\n${FENCE}\n끝!`;
  for (let end = 200; end < full.length; end += 200) {
    stream.update(full.slice(0, end));
    await clock.tick(500);
  }
  const done = stream.finish(full);
  await clock.tick(1000);
  await done;
  const shown = discord.visible();
  ok(shown.length >= 2, `expected a continuation message, got ${shown.length}`);
  for (const content of shown) {
    ok([...content].length <= 2000, `a message has ${[...content].length} characters`);
    strictEqual((content.match(/```/g) ?? []).length % 2, 0, `unbalanced fences in:\n${content}`);
  }
  const joined = shown.join("\n").replace(/```(ts)?\n?/g, "").replace(/\s+/g, "");
  strictEqual(joined, full.replace(/```(ts)?\n?/g, "").replace(/\s+/g, ""));
  // Only the first message replies to the user.
  const sends = discord.calls.filter((c) => c.op === "send");
  deepStrictEqual(sends.map((c) => c.replyTo), ["u1", ...sends.slice(1).map(() => undefined)]);
});

Deno.test("ReplyStream shows a code block being written as closed", async () => {
  const { clock, discord, stream } = setup();
  stream.update(`봐봐\n${FENCE}js\nconsole.log(1)`);
  await clock.tick(0);
  strictEqual(discord.calls[0].content, `봐봐\n${FENCE}js\nconsole.log(1)\n${FENCE}`);
  const done = stream.finish(`봐봐\n${FENCE}js\nconsole.log(1)\n${FENCE}`);
  await clock.tick(1000);
  await done;
  strictEqual(discord.calls.length, 1, "the closed preview already equals the final text");
});

Deno.test("ReplyStream.fail() keeps what was shown and adds the notice", async () => {
  const { clock, discord, stream } = setup();
  stream.update("반쯤 말하다가");
  await clock.tick(300);
  const done = stream.fail("_(끊겼어)_");
  await clock.tick(1000);
  await done;
  deepStrictEqual(discord.visible(), ["반쯤 말하다가\n\n_(끊겼어)_"]);
});

Deno.test("ReplyStream.fail() posts the notice alone when nothing was said", async () => {
  const { discord, stream } = setup();
  await stream.fail("지금은 안 돼.");
  deepStrictEqual(discord.visible(), ["지금은 안 돼."]);
});

Deno.test("ReplyStream survives a failed edit and shows the text at the next one", async () => {
  const { clock, discord, stream, errors } = setup({ failEdits: 1 });
  stream.update("하나");
  await clock.tick(0);
  stream.update("하나 둘");
  await clock.tick(1000);
  strictEqual(errors.length, 1);
  stream.update("하나 둘 셋");
  const done = stream.finish("하나 둘 셋 넷");
  await clock.tick(2000);
  await done;
  deepStrictEqual(discord.visible(), ["하나 둘 셋 넷"]);
});

Deno.test("ReplyStream retries the final edit once when Discord refuses it", async () => {
  const { clock, discord, stream, errors } = setup({ failEdits: 1 });
  stream.update("거의 다");
  await clock.tick(0);
  const done = stream.finish("거의 다 했어");
  await clock.tick(0);
  strictEqual(errors.length, 1);
  await clock.tick(1000);
  await done;
  deepStrictEqual(discord.visible(), ["거의 다 했어"]);
});

Deno.test("ReplyStream deletes continuation messages a shorter final text no longer needs", async () => {
  const { clock, discord, stream } = setup();
  stream.update("가 ".repeat(1500));
  await clock.tick(0);
  strictEqual(discord.visible().length, 2);
  const done = stream.finish("짧게 끝.");
  await clock.tick(1000);
  await done;
  deepStrictEqual(discord.visible(), ["짧게 끝."]);
  strictEqual(stream.messageIds.length, 1);
});

Deno.test("ReplyStream leaves no timer behind", async () => {
  const { clock, stream } = setup();
  stream.update("a");
  await clock.tick(10);
  stream.update("ab");
  const done = stream.finish("abc");
  await clock.tick(1000);
  await done;
  strictEqual(clock.pendingTimers, 0);
});

/**
 * A ManualClock that fails loudly when the stream asks it the time thousands of times without a
 * timer firing in between: a loop rescheduling itself in microtasks, which would otherwise starve
 * the whole process (and this test) of timers forever.
 */
class SpinGuardClock extends ManualClock {
  #reads = 0;
  override now(): number {
    if (++this.#reads > 1000) throw new Error("spinning: 1000 reads of the clock, no timer fired");
    return super.now();
  }
  override setTimeout(callback: () => void, ms: number): number {
    return super.setTimeout(() => {
      this.#reads = 0;
      callback();
    }, ms);
  }
}

Deno.test("ReplyStream yields to timers when the text so far is only whitespace", async () => {
  const clock = new SpinGuardClock(0);
  const discord = fakeDiscord(clock);
  const stream = new ReplyStream({ discord, channelId: "c", clock });
  stream.update("\n");
  await clock.tick(0);
  stream.update("\n\n");
  await clock.tick(1000);
  deepStrictEqual(discord.calls, [], "nothing to show yet");
  stream.update("\n\n안녕");
  await clock.tick(0);
  deepStrictEqual(discord.visible(), ["\n\n안녕"]);
  await stream.finish("\n\n안녕!");
  await clock.tick(1000);
  deepStrictEqual(discord.visible(), ["\n\n안녕!"]);
  strictEqual(clock.pendingTimers, 0);
});

Deno.test("ReplyStream retries the final text with backoff until Discord recovers", async () => {
  const { clock, discord, stream } = setup();
  stream.update("답의 앞부분");
  await clock.tick(0);
  discord.outage.edits = true;
  const done = stream.finish("답의 앞부분과 뒷부분");
  await clock.tick(3000);
  ok(discord.outage.refused >= 3, `only ${discord.outage.refused} attempts in 3 s`);
  ok(discord.outage.refused <= 6, `${discord.outage.refused} attempts in 3 s is hammering`);
  discord.outage.edits = false;
  await clock.tick(5000);
  strictEqual(await done, true);
  deepStrictEqual(discord.visible(), ["답의 앞부분과 뒷부분"]);
  strictEqual(stream.shownText, "답의 앞부분과 뒷부분");
  strictEqual(clock.pendingTimers, 0);
});

Deno.test("ReplyStream posts a first text Discord refused once Discord recovers", async () => {
  const { clock, discord, stream } = setup();
  discord.outage.sends = true;
  stream.update("처음");
  await clock.tick(0);
  strictEqual(discord.outage.refused, 1);
  stream.update("처음 말");
  await clock.tick(500);
  strictEqual(discord.outage.refused, 1, "a refused post waits an interval before the next try");
  const done = stream.finish("처음 말이야");
  await clock.tick(2500);
  discord.outage.sends = false;
  await clock.tick(5000);
  strictEqual(await done, true);
  deepStrictEqual(discord.visible(), ["처음 말이야"]);
});

Deno.test("ReplyStream gives up on the final text after FINAL_RETRY_MS and says so", async () => {
  const { clock, discord, stream, errors } = setup();
  stream.update("반만 보인 답");
  await clock.tick(0);
  discord.outage.edits = true;
  let settled: boolean | undefined;
  const done = stream.finish("반만 보인 답, 나머지 반").then((complete) => settled = complete);
  await clock.tick(FINAL_RETRY_MS - 4_001);
  strictEqual(settled, undefined, "still retrying well inside the bound");
  await clock.tick(4_001);
  await done;
  strictEqual(settled, false);
  ok(errors.length >= 8 && errors.length <= 14, `${errors.length} attempts in 30 s`);
  deepStrictEqual(discord.visible(), ["반만 보인 답", text.replyNotShown]);
  strictEqual(discord.calls.at(-1)!.replyTo, "u1", "the notice replies to the user");
  strictEqual(stream.shownText, "반만 보인 답", "only what the user saw");
  strictEqual(clock.pendingTimers, 0);
});

Deno.test("ReplyStream.shownText holds only the messages that got through", async () => {
  const { clock, discord, stream } = setup();
  const first = "가나다 ".repeat(300).trimEnd(); // about 1,200 characters
  const second = "라마바 ".repeat(300).trimEnd();
  stream.update(first);
  await clock.tick(0);
  discord.outage.sends = true;
  const done = stream.finish(`${first}\n\n${second}`);
  await clock.tick(FINAL_RETRY_MS);
  strictEqual(await done, false);
  deepStrictEqual(discord.visible(), [first]);
  strictEqual(stream.shownText, `${first}\n\n`);
});

Deno.test("ReplyStream closes an unclosed code block in the final text", async () => {
  const { clock, discord, stream } = setup();
  const done = stream.finish(`봐봐\n${FENCE}py\nprint(1)`);
  await clock.tick(0);
  strictEqual(await done, true);
  deepStrictEqual(discord.visible(), [`봐봐\n${FENCE}py\nprint(1)\n${FENCE}`]);
});

Deno.test("ReplyStream.finish() shows a notice under the answer, outside its code block", async () => {
  const { clock, discord, stream } = setup();
  stream.update(`코드:\n${FENCE}js\nlet a = 1;\n`);
  await clock.tick(0);
  const done = stream.finish(`코드:\n${FENCE}js\nlet a = 1;\nlet b`, { notice: "_(끊김)_" });
  await clock.tick(1000);
  strictEqual(await done, true);
  deepStrictEqual(discord.visible(), [
    `코드:\n${FENCE}js\nlet a = 1;\nlet b\n${FENCE}\n\n_(끊김)_`,
  ]);
  strictEqual(stream.shownText, `코드:\n${FENCE}js\nlet a = 1;\nlet b\n${FENCE}`);
});

const STOP_ROW = [{
  type: 1 as const,
  components: [{ type: 2 as const, style: 4 as const, label: "그만", custom_id: "stop:1:2" }],
}];

Deno.test("ReplyStream: a growing answer carries its button, and the final edit takes it off", async () => {
  const clock = new ManualClock(0);
  const discord = fakeDiscord(clock);
  const stream = new ReplyStream({ discord, channelId: "c", clock, components: STOP_ROW });
  stream.update("안녕");
  await clock.tick(0);
  stream.update("안녕, 반가워");
  await clock.tick(1000);
  await stream.finish("안녕, 반가워!");
  // Posted with the button; the growing edit leaves it; the final edit (one request) removes it.
  deepStrictEqual(discord.calls.map((c) => c.op), ["send", "edit", "edit"]);
  deepStrictEqual(discord.buttons, [{ id: "1", components: STOP_ROW }, {
    id: "1",
    components: [],
  }]);
});

Deno.test("ReplyStream: an answer complete before its first post never gets a button", async () => {
  const clock = new ManualClock(0);
  const discord = fakeDiscord(clock);
  const stream = new ReplyStream({ discord, channelId: "c", clock, components: STOP_ROW });
  await stream.finish("다 됐어");
  deepStrictEqual(discord.calls.map((c) => c.op), ["send"]);
  deepStrictEqual(discord.buttons, []);
});

Deno.test("ReplyStream: past 2,000 characters the button moves to the newest message", async () => {
  const clock = new ManualClock(0);
  const discord = fakeDiscord(clock);
  const stream = new ReplyStream({ discord, channelId: "c", clock, components: STOP_ROW });
  stream.update("가".repeat(1500));
  await clock.tick(0);
  stream.update("가".repeat(1800));
  await clock.tick(1000);
  stream.update("가".repeat(2500));
  await clock.tick(1000);
  stream.update("가".repeat(2550));
  await clock.tick(1000);
  await stream.finish("가".repeat(2600));
  // The first message takes the button with its growing edit and loses it with the edit that
  // settles it; the second takes it with its own growing edit and loses it at the end. Posts
  // never carry it, and no edit is made for the button alone.
  deepStrictEqual(discord.buttons.map((b) => [b.id, b.components.length]), [
    ["1", 1],
    ["1", 0],
    ["2", 1],
    ["2", 0],
  ]);
  deepStrictEqual(discord.calls.map((c) => [c.op, c.id]), [
    ["send", "1"],
    ["edit", "1"],
    ["edit", "1"],
    ["send", "2"],
    ["edit", "2"],
    ["edit", "2"],
  ]);
});

/**
 * A Discord whose requests wait for their turn, as under a busy request budget: each reads
 * `latestContent` when its turn comes, as the adapter does when a request leaves.
 */
function queuedDiscord() {
  const sent: {
    op: "send" | "edit";
    content: string;
    streaming?: boolean;
    components?: unknown[];
  }[] = [];
  const turns: (() => void)[] = [];
  const leave = async (
    op: "send" | "edit",
    content: string,
    opts?: {
      latestContent?(): string;
      latestComponents?(): unknown[] | undefined;
      streaming?: boolean;
    },
  ) => {
    await new Promise<void>((resolve) => turns.push(resolve));
    const latest = opts?.latestContent?.() ?? content;
    const components = opts?.latestComponents?.();
    sent.push({
      op,
      content: latest,
      streaming: opts?.streaming,
      ...(components ? { components } : {}),
    });
  };
  return {
    sent,
    /** Lets the oldest waiting request go. */
    nextTurn: () => turns.shift()?.(),
    waiting: () => turns.length,
    sendMessage: async (
      _c: string,
      content: string,
      opts?: { latestContent?(): string; latestComponents?(): unknown[] | undefined },
    ) => {
      await leave("send", content, opts);
      return "1";
    },
    editMessage: (
      _c: string,
      _id: string,
      content: string,
      opts?: {
        latestContent?(): string;
        latestComponents?(): unknown[] | undefined;
        streaming?: boolean;
      },
    ) => leave("edit", content, opts),
  };
}

Deno.test("ReplyStream's first post, held back until its turn, carries the whole answer ready by then: one request", async () => {
  const clock = new ManualClock(0);
  const discord = queuedDiscord();
  const stream = new ReplyStream({ discord, channelId: "c", clock });
  stream.update("하나");
  await clock.tick(0);
  strictEqual(discord.waiting(), 1, "the first post waits for its turn");
  stream.update("하나 둘");
  stream.update("하나 둘 셋");
  const finished = stream.finish("하나 둘 셋 넷");
  await clock.tick(0);
  discord.nextTurn();
  strictEqual(await finished, true);
  deepStrictEqual(discord.sent, [{ op: "send", content: "하나 둘 셋 넷", streaming: undefined }]);
  strictEqual(stream.shownText, "하나 둘 셋 넷");
});

Deno.test("ReplyStream keeps one edit waiting, which leaves with the newest text", async () => {
  const clock = new ManualClock(0);
  const discord = queuedDiscord();
  const stream = new ReplyStream({ discord, channelId: "c", clock, minEditIntervalMs: 100 });
  stream.update("하나");
  await clock.tick(0);
  discord.nextTurn();
  await clock.tick(0);
  for (const text of ["하나 둘", "하나 둘 셋", "하나 둘 셋 넷"]) {
    stream.update(text);
    await clock.tick(150);
  }
  strictEqual(discord.waiting(), 1, "one edit waits, not three");
  discord.nextTurn();
  await clock.tick(0);
  deepStrictEqual(discord.sent.map((s) => s.content), ["하나", "하나 둘 셋 넷"]);
  strictEqual(discord.waiting(), 0, "nothing newer to send");
  strictEqual(await stream.finish("하나 둘 셋 넷"), true);
  strictEqual(discord.sent.length, 2, "the final text was already shown: no final edit");
});

Deno.test("ReplyStream: a first post that waited until the answer was complete carries no button: one request", async () => {
  const clock = new ManualClock(0);
  const discord = queuedDiscord();
  const stream = new ReplyStream({ discord, channelId: "c", clock, components: STOP_ROW });
  stream.update("하나");
  await clock.tick(0);
  strictEqual(discord.waiting(), 1, "the first post waits for its turn");
  const finished = stream.finish("하나 둘");
  await clock.tick(0);
  discord.nextTurn();
  strictEqual(await finished, true);
  deepStrictEqual(discord.sent, [{ op: "send", content: "하나 둘", streaming: undefined }]);
});

Deno.test("ReplyStream: the button rides on a growing edit as it leaves, and the final edit takes it off", async () => {
  const clock = new ManualClock(0);
  const discord = queuedDiscord();
  const stream = new ReplyStream({ discord, channelId: "c", clock, components: STOP_ROW });
  stream.update("하나");
  await clock.tick(0);
  discord.nextTurn();
  await clock.tick(0);
  stream.update("하나 둘");
  await clock.tick(1000);
  discord.nextTurn();
  await clock.tick(0);
  const finished = stream.finish("하나 둘 셋");
  await clock.tick(1000);
  discord.nextTurn();
  strictEqual(await finished, true);
  deepStrictEqual(discord.sent, [
    { op: "send", content: "하나", streaming: undefined },
    { op: "edit", content: "하나 둘", streaming: true, components: STOP_ROW },
    { op: "edit", content: "하나 둘 셋", streaming: false, components: [] },
  ]);
});

Deno.test("ReplyStream: an answer its first post already showed whole costs no request for the button", async () => {
  const clock = new ManualClock(0);
  const discord = queuedDiscord();
  const stream = new ReplyStream({ discord, channelId: "c", clock, components: STOP_ROW });
  stream.update("다 됐어");
  await clock.tick(0);
  discord.nextTurn();
  await clock.tick(1000);
  strictEqual(discord.waiting(), 0, "no edit only to put the button on");
  strictEqual(await stream.finish("다 됐어"), true);
  await clock.tick(1000);
  deepStrictEqual(discord.sent, [{ op: "send", content: "다 됐어", streaming: undefined }]);
});
