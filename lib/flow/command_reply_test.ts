import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { answerCommand, type InteractionPort } from "./command_reply.ts";
import type { SlashCommand } from "../discord/events.ts";
import { text } from "../text/strings_ko.ts";

const COMMANDS = new Set(["help", "summarize"]);

/** An in-memory interaction port that records each call, as `kind:content`. */
class RecordingPort implements InteractionPort {
  readonly calls: string[] = [];
  failNextReply = false;
  deferInteraction() {
    this.calls.push("defer");
    return Promise.resolve();
  }
  replyToInteraction(_id: string, _token: string, content: string) {
    if (this.failNextReply) {
      this.failNextReply = false;
      return Promise.reject(new Error("500 from Discord"));
    }
    this.calls.push(`reply:${content}`);
    return Promise.resolve();
  }
  editInteractionReply(_token: string, content: string) {
    this.calls.push(`edit:${content}`);
    return Promise.resolve();
  }
  followUpInteraction(_token: string, content: string) {
    this.calls.push(`followup:${content}`);
    return Promise.resolve();
  }
}

function command(overrides: Partial<SlashCommand> = {}): SlashCommand {
  return {
    id: "1700000000000000001",
    token: "token-1",
    name: "help",
    channelId: "1400000000000000001",
    userId: "1200000000000000001",
    options: {},
    ...overrides,
  };
}

async function run(
  cmd: SlashCommand,
  handle: Parameters<typeof answerCommand>[2],
  port = new RecordingPort(),
) {
  const errors: unknown[] = [];
  await answerCommand(cmd, port, handle, {
    commands: COMMANDS,
    onError: (e) => errors.push(e),
  });
  return { calls: port.calls, errors };
}

Deno.test("answerCommand() passes a known command to its handler", async () => {
  const { calls, errors } = await run(command(), (_c, reply) => reply.send("도움말"));
  assert.deepEqual(calls, ["reply:도움말"]);
  assert.deepEqual(errors, []);
});

Deno.test("answerCommand() answers an unknown (stale) command without calling the handler", async () => {
  const { calls } = await run(command({ name: "old-command" }), () => {
    throw new Error("must not run");
  });
  assert.deepEqual(calls, [`reply:${text.commandUnknown}`]);
});

Deno.test("answerCommand() answers a command that names no channel", async () => {
  const { calls } = await run(command({ channelId: undefined }), () => {
    throw new Error("must not run");
  });
  assert.deepEqual(calls, [`reply:${text.commandNeedsChannel}`]);
});

Deno.test("answerCommand() answers for a handler that throws before responding", async () => {
  const { calls, errors } = await run(command(), () => Promise.reject(new Error("boom")));
  assert.deepEqual(calls, [`reply:${text.commandFailed}`]);
  assert.equal(errors.length, 1);
});

Deno.test("answerCommand() answers again when the handler's own reply failed", async () => {
  const port = new RecordingPort();
  port.failNextReply = true;
  const { calls, errors } = await run(command(), (_c, reply) => reply.send("도움말"), port);
  assert.deepEqual(calls, [`reply:${text.commandFailed}`]);
  assert.equal(errors.length, 1);
});

Deno.test("answerCommand() replaces a deferred 'thinking' when the handler fails after it", async () => {
  const { calls } = await run(command({ name: "summarize" }), async (_c, reply) => {
    await reply.defer();
    throw new Error("summary failed");
  });
  assert.deepEqual(calls, ["defer", `edit:${text.commandFailed}`]);
});

Deno.test("answerCommand() answers for a handler that returns without answering", async () => {
  const { calls } = await run(command(), () => Promise.resolve());
  assert.deepEqual(calls, [`reply:${text.commandFailed}`]);
});

Deno.test("answerCommand() defers a slow handler, whose answer then edits the response", async () => {
  const clock = new ManualClock();
  const port = new RecordingPort();
  const slow = Promise.withResolvers<void>();
  const answered = answerCommand(command(), port, async (_c, reply) => {
    await slow.promise;
    await reply.send("첫 부분");
    await reply.send("둘째 부분");
  }, { commands: COMMANDS, onError: assert.fail, clock });
  await clock.tick(1_999);
  assert.deepEqual(port.calls, []);
  await clock.tick(1);
  assert.deepEqual(port.calls, ["defer"]);
  slow.resolve();
  await answered;
  assert.deepEqual(port.calls, ["defer", "edit:첫 부분", "followup:둘째 부분"]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("answerCommand() leaves a handler that answered alone", async () => {
  const { calls } = await run(command({ name: "summarize" }), async (_c, reply) => {
    await reply.defer();
    await reply.defer();
    await reply.send("요약");
  });
  assert.deepEqual(calls, ["defer", "edit:요약"]);
});
