import assert from "node:assert/strict";
import type { BrokerRequest, BrokerResult } from "../broker/port.ts";
import type { ChatMessage, DiscordPort } from "../discord/adapter.ts";
import { log } from "../log.ts";
import { foldRequest } from "../sessions/memory_fold.ts";
import type { BeginResult, CommitResult, FoldTask, SessionsPort, Shown } from "../sessions/port.ts";
import { text } from "../text/strings_ko.ts";
import { chatTurn, type ChatTurnDeps } from "./chat_turn.ts";
import { RunningTurns } from "./stop_button.ts";

const MESSAGE: ChatMessage = {
  id: "100000000000000001",
  channelId: "200000000000000002",
  guildId: "300000000000000003",
  content: "<@9> 안녕",
  authorId: "400000000000000004",
  authorName: "민수",
  authorIsBot: false,
  type: 0,
  mentionedUserIds: ["9"],
  mentionedRoleIds: [],
  mentionsEveryone: false,
};
const USAGE = { promptTokens: 10, outputTokens: 5, cachedTokens: 0, thinkingTokens: 0 };

/** A Discord that keeps what the bot posts, in order. */
function fakeDiscord() {
  const posts: { content: string; replyTo?: string }[] = [];
  /** Buttons set by a post or an edit, by message id, in order. */
  const buttons: [string, number][] = [];
  let typing = 0;
  const discord = {
    botId: "9",
    sendMessage: (
      _channel: string,
      content: string,
      options?: {
        replyTo?: string;
        components?: unknown[];
        latestComponents?(): unknown[] | undefined;
      },
    ) => {
      posts.push({ content, replyTo: options?.replyTo });
      // As the adapter does: the rows read as the request leaves replace `components`.
      const rows = options?.latestComponents ? options.latestComponents() : options?.components;
      if (rows) buttons.push([String(posts.length), rows.length]);
      return Promise.resolve(String(posts.length));
    },
    editMessage: (
      _channel: string,
      id: string,
      content: string,
      options?: { components?: unknown[]; latestComponents?(): unknown[] | undefined },
    ) => {
      posts[Number(id) - 1].content = content;
      const rows = options?.latestComponents ? options.latestComponents() : options?.components;
      if (rows) buttons.push([id, rows.length]);
      return Promise.resolve();
    },
    deleteMessage: () => Promise.resolve(),
    triggerTyping: () => (typing++, Promise.resolve()),
  } as unknown as DiscordPort;
  return { discord, posts, buttons, typed: () => typing };
}

/** A session layer that lends `contents` and records what is committed and remembered. */
function fakeSessions(begin: BeginResult | "lend" = "lend", commit?: CommitResult) {
  const committed: (Shown | undefined)[] = [];
  const remembered: [string, string, string | undefined][] = [];
  const sessions: Pick<SessionsPort, "begin" | "remember"> = {
    remember: (channelId, foldId, memory) => {
      remembered.push([channelId, foldId, memory]);
      return Promise.resolve({ ok: true });
    },
    begin: () =>
      Promise.resolve(
        begin === "lend"
          ? {
            ok: true,
            lease: {
              contents: [{ role: "user", parts: [{ text: "민수: 안녕" }] }],
              commit: (shown) => {
                committed.push(shown);
                return Promise.resolve(
                  commit ?? { ok: true, recorded: shown !== undefined, unsaved: false },
                );
              },
            },
          }
          : begin,
      ),
  };
  return { sessions, committed, remembered };
}

function deps(
  discord: DiscordPort,
  sessions: Pick<SessionsPort, "begin" | "remember">,
  generate: (request: BrokerRequest) => Promise<BrokerResult>,
): ChatTurnDeps {
  return {
    sessions,
    generate,
    discord,
    metrics: { firstText: () => {}, replyDone: () => {} },
    logger: log,
  };
}

const answer = (text: string): Promise<BrokerResult> =>
  Promise.resolve({ ok: true, text, usage: USAGE, attempts: 1 });

Deno.test("chatTurn shows the answer as a reply and commits exactly what was shown", async () => {
  const { discord, posts, typed } = fakeDiscord();
  const { sessions, committed } = fakeSessions();
  let asked: BrokerRequest | undefined;
  await chatTurn(
    MESSAGE,
    "민수: 안녕",
    deps(discord, sessions, (request) => {
      asked = request;
      request.onText?.("안녕");
      return answer("안녕! 반가워.");
    }),
  );
  assert.equal(asked?.priority, "chat");
  assert.deepEqual(asked?.contents, [{ role: "user", parts: [{ text: "민수: 안녕" }] }]);
  assert.deepEqual(posts, [{ content: "안녕! 반가워.", replyTo: MESSAGE.id }]);
  assert.deepEqual(committed, ["안녕! 반가워."]);
  assert.equal(typed(), 0, "a fast answer spends no request on typing");
});

Deno.test("chatTurn tells the user when the session could not begin, and asks Gemini nothing", async () => {
  const { discord, posts } = fakeDiscord();
  const { sessions } = fakeSessions({ ok: false, error: "stopping" });
  let calls = 0;
  await chatTurn(MESSAGE, "민수: 안녕", deps(discord, sessions, () => (calls++, answer("x"))));
  assert.equal(calls, 0);
  assert.deepEqual(posts, [{ content: text.stopping, replyTo: MESSAGE.id }]);
});

Deno.test("chatTurn answers a broker failure with a notice and records nothing", async () => {
  const { discord, posts } = fakeDiscord();
  const { sessions, committed } = fakeSessions();
  await chatTurn(
    MESSAGE,
    "민수: 안녕",
    deps(discord, sessions, () => Promise.resolve({ ok: false, reason: "blocked" })),
  );
  assert.deepEqual(posts.map((p) => p.content), [text.blocked]);
  assert.deepEqual(committed, [undefined]);
});

Deno.test("chatTurn gives an empty answer a short notice and records nothing", async () => {
  const { discord, posts } = fakeDiscord();
  const { sessions, committed } = fakeSessions();
  await chatTurn(MESSAGE, "민수: 안녕", deps(discord, sessions, () => answer(" \n ")));
  assert.deepEqual(posts.map((p) => p.content), [text.emptyAnswer]);
  assert.deepEqual(committed, [undefined]);
});

Deno.test("chatTurn still commits, and says so, when something throws mid-turn", async () => {
  const { discord, posts } = fakeDiscord();
  const { sessions, committed } = fakeSessions();
  await chatTurn(
    MESSAGE,
    "민수: 안녕",
    deps(discord, sessions, () => Promise.reject(new Error("a bug"))),
  );
  assert.deepEqual(posts.map((p) => p.content), [text.crashed]);
  assert.deepEqual(committed, [undefined], "the channel's next turn must not wait forever");
});

Deno.test("chatTurn tells the user once the store holds the answer only in memory", async () => {
  const { discord, posts } = fakeDiscord();
  const { sessions } = fakeSessions("lend", { ok: true, recorded: true, unsaved: true });
  await chatTurn(MESSAGE, "민수: 안녕", deps(discord, sessions, () => answer("응.")));
  assert.deepEqual(posts.map((p) => p.content), ["응.", text.unsaved]);
});

Deno.test("chatTurn shows typing only while a slow answer keeps the user waiting", async () => {
  const { discord, typed } = fakeDiscord();
  const { sessions } = fakeSessions();
  await chatTurn(
    MESSAGE,
    "민수: 안녕",
    deps(discord, sessions, () => new Promise((r) => setTimeout(() => r(answer("느렸지?")), 500))),
  );
  assert.equal(typed(), 1);
});

Deno.test("chatTurn sends no typing for an answer whose text is ready, even while its post waits for its turn", async () => {
  const { discord, typed, posts } = fakeDiscord();
  const send = discord.sendMessage.bind(discord);
  // Discord's budget is busy: the first post waits 500 ms for its turn.
  discord.sendMessage = (channel, content, options) =>
    new Promise((resolve) => setTimeout(() => resolve(send(channel, content, options)), 500));
  const { sessions } = fakeSessions();
  await chatTurn(
    MESSAGE,
    "민수: 안녕",
    deps(discord, sessions, (request) => {
      request.onText?.("금방");
      return new Promise((r) => setTimeout(() => r(answer("금방 끝나")), 400));
    }),
  );
  assert.equal(typed(), 0, "typing at 300 ms would have cost a request and shown nothing new");
  assert.deepEqual(posts.map((p) => p.content), ["금방 끝나"]);
});

const FOLD: FoldTask = {
  id: "fold:1",
  memory: "- 민수: 고양이 이름은 콩이",
  exchanges: [{ user: "민수: 나 내일 시험", model: "화이팅", at: 0, id: "1" }],
};

Deno.test("chatTurn folds what its commit hands over, after the answer is shown, and hands back the memory", async () => {
  const { discord, posts } = fakeDiscord();
  const { sessions, committed, remembered } = fakeSessions("lend", {
    ok: true,
    recorded: true,
    unsaved: false,
    fold: FOLD,
  });
  const asked: BrokerRequest[] = [];
  let postsWhenFolding = -1;
  await chatTurn(MESSAGE, "민수: 안녕", {
    ...deps(discord, sessions, (request) => {
      asked.push(request);
      if (request.priority === "chat") return answer("안녕!");
      postsWhenFolding = posts.length;
      return answer("## 기억\n- 민수: 고양이 이름은 콩이\n- 민수: 내일 시험");
    }),
    // A server with Google Search on: the chat call may search, the fold never does.
    searchFor: () => true,
  });
  assert.equal(asked[0].googleSearch, true);
  assert.deepEqual(committed, ["안녕!"]);
  assert.equal(postsWhenFolding, 1, "the fold began before the answer was shown");
  assert.equal(asked.length, 2);
  assert.deepEqual(asked[1], foldRequest(FOLD.memory, FOLD.exchanges));
  assert.equal(asked[1].priority, "summary");
  assert.deepEqual(remembered, [
    [MESSAGE.channelId, "fold:1", "- 민수: 고양이 이름은 콩이\n- 민수: 내일 시험"],
  ]);
  assert.deepEqual(posts.map((p) => p.content), ["안녕!"], "a fold shows the user nothing");
});

Deno.test("chatTurn hands back no memory for a failed fold, so the session keeps the old one", async () => {
  const { discord } = fakeDiscord();
  const { sessions, remembered } = fakeSessions("lend", {
    ok: true,
    recorded: true,
    unsaved: false,
    fold: FOLD,
  });
  await chatTurn(
    MESSAGE,
    "민수: 안녕",
    deps(
      discord,
      sessions,
      (request) =>
        request.priority === "chat"
          ? answer("안녕!")
          : Promise.resolve({ ok: false, reason: "unavailable" }),
    ),
  );
  assert.deepEqual(remembered, [[MESSAGE.channelId, "fold:1", undefined]]);
});

Deno.test("chatTurn folds nothing when its commit hands nothing over", async () => {
  const { discord } = fakeDiscord();
  const { sessions, remembered } = fakeSessions();
  let calls = 0;
  await chatTurn(MESSAGE, "민수: 안녕", deps(discord, sessions, () => (calls++, answer("응."))));
  assert.equal(calls, 1);
  assert.deepEqual(remembered, []);
});

Deno.test("chatTurn sends the gathered parts in this request only and stores the line", async () => {
  const { discord } = fakeDiscord();
  let begunWith: string | undefined;
  const { sessions } = fakeSessions();
  const begin = sessions.begin;
  sessions.begin = (channel, id, line) => (begunWith = line, begin(channel, id, line));
  let asked: BrokerRequest | undefined;
  const image = { inlineData: { mimeType: "image/png", data: "AQID" } };
  await chatTurn(MESSAGE, "민수: 봐", {
    ...deps(discord, sessions, (request) => (asked = request, answer("고양이네"))),
    gather: (_message, line) =>
      Promise.resolve({
        ok: true,
        input: { line: `${line} [첨부: a.png (image/png)]`, parts: [image] },
      }),
  });
  assert.equal(begunWith, "민수: 봐 [첨부: a.png (image/png)]");
  assert.deepEqual(asked?.contents, [{ role: "user", parts: [{ text: "민수: 안녕" }, image] }]);
});

Deno.test("chatTurn answers a refused file with the gathered text, and begins nothing", async () => {
  const { discord, posts } = fakeDiscord();
  let begun = 0;
  const sessions: Pick<SessionsPort, "begin" | "remember"> = {
    begin: () => (begun++, Promise.resolve({ ok: false, error: "stopping" })),
    remember: () => Promise.resolve({ ok: true }),
  };
  let calls = 0;
  await chatTurn(MESSAGE, "민수: 봐", {
    ...deps(discord, sessions, () => (calls++, answer("x"))),
    gather: () => Promise.resolve({ ok: false, text: "`x.zip` 파일은 못 읽어" }),
  });
  assert.deepEqual(posts, [{ content: "`x.zip` 파일은 못 읽어", replyTo: MESSAGE.id }]);
  assert.equal(begun, 0);
  assert.equal(calls, 0);
});

Deno.test("chatTurn asks with Google Search where allowed, and shows the sources under the answer, not in the window", async () => {
  const { discord, posts } = fakeDiscord();
  const { sessions, committed } = fakeSessions();
  const asked: BrokerRequest[] = [];
  const grounding = {
    sources: [1, 2, 3, 4].map((i) => ({
      title: `site${i}.example`,
      uri: `https://s${i}.example/`,
    })),
    queries: ["오늘 날씨"],
  };
  const parts = [{ toolCall: { id: "a" }, thoughtSignature: "c2ln" }, { text: "맑아." }];
  const searchFor = (guildId: string | undefined) => guildId === MESSAGE.guildId;
  await chatTurn(MESSAGE, "민수: 날씨?", {
    ...deps(discord, sessions, (request) => {
      asked.push(request);
      return Promise.resolve({
        ok: true,
        text: "맑아.",
        usage: USAGE,
        attempts: 1,
        grounding,
        parts,
      });
    }),
    searchFor,
  });
  assert.equal(asked[0].googleSearch, true);
  assert.equal(
    posts[0].content,
    `맑아.\n\n-# ${text.sourcesLabel}: [site1.example](<https://s1.example/>) · ` +
      "[site2.example](<https://s2.example/>) · [site3.example](<https://s3.example/>)",
  );
  assert.deepEqual(committed, ["맑아."]);
  // Elsewhere (a DM here), no tool.
  await chatTurn({ ...MESSAGE, guildId: undefined }, "민수: 날씨?", {
    ...deps(discord, sessions, (request) => (asked.push(request), answer("응"))),
    searchFor,
  });
  assert.equal(asked[1].googleSearch, undefined);
});

Deno.test("chatTurn's stop button cancels the call; the text shown stays, marked, and is what is committed", async () => {
  const { discord, posts, buttons } = fakeDiscord();
  const { sessions, committed } = fakeSessions();
  const turns = new RunningTurns();
  let grow: ((soFar: string) => void) | undefined;
  const turn = chatTurn(MESSAGE, "민수: 길게 말해줘", {
    ...deps(discord, sessions, (request) => {
      request.onText?.("옛날 옛적에");
      grow = request.onText;
      const { promise, resolve } = Promise.withResolvers<BrokerResult>();
      request.signal?.addEventListener(
        "abort",
        () => resolve({ ok: false, reason: "cancelled", partialText: "옛날 옛적에 공주가" }),
      );
      return promise;
    }),
    turns,
  });
  // The first post carries no button; the edit that brings the next text puts it on.
  while (posts.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(buttons, []);
  grow!("옛날 옛적에 공주가");
  while (buttons.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(buttons, [["1", 1]]);
  assert.equal(turns.stop(MESSAGE.id), true);
  await turn;
  assert.equal(posts[0].content, `옛날 옛적에 공주가\n\n${text.stoppedMark}`);
  assert.deepEqual(buttons, [["1", 1], ["1", 0]], "the final edit took the button off");
  assert.deepEqual(committed, ["옛날 옛적에 공주가"]);
  assert.equal(turns.size, 0, "the turn no longer runs");
});
