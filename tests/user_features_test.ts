/**
 * What users see, end to end: the real bot process (`deno run -P=bot main.ts`) against the fake
 * Discord, which holds every request against Discord's OpenAPI spec, and the fake Gemini.
 *
 * One World and one bot serve most steps, because each bot start costs about half a second;
 * every step uses its own channel and its own users, so steps do not see each other's history or
 * rate limits.
 */
import assert from "node:assert/strict";
import { BotProcess, delay, until, World } from "./harness.ts";
import type { RecordedRequest as DiscordRequest } from "./fakes/fake_discord.ts";
import type { RecordedRequest as GeminiRequest } from "./fakes/fake_gemini.ts";
import { text } from "../lib/text/strings_ko.ts";
import { SUMMARY_INSTRUCTION } from "../lib/text/prompts.ts";

const GUILD = "1300000000000000001";
/** Enough Gemini quota that no step waits for a minute window. */
const FAST = { GEMINI_RPM: "1000", GEMINI_RPD: "100000" };
const FENCE = "```";

let nextId = 0n;
/** A fresh snowflake-shaped id, for a channel or a user no other step uses. */
function freshId(): string {
  return String(1400000000000000000n + ++nextId);
}

function isGenerate(r: GeminiRequest): boolean {
  return r.action === "generateContent" || r.action === "streamGenerateContent";
}

function generateRequests(world: World): GeminiRequest[] {
  return world.gemini.requests.filter(isGenerate);
}

/** The generate requests whose last user turn mentions `marker`. */
function requestsAbout(world: World, marker: string): GeminiRequest[] {
  return generateRequests(world).filter((r) => JSON.stringify(r.body.contents).includes(marker));
}

function contentsOf(request: GeminiRequest): [string, string][] {
  return (request.body.contents as { role: string; parts: { text: string }[] }[]).map((
    c,
  ) => [c.role, c.parts.map((p) => p.text).join("")]);
}

function botMessages(world: World, channelId: string): string[] {
  return world.discord.messagesIn(channelId)
    .filter((m) => m.author.bot && m.author.id === world.discord.botId && !m.deleted)
    .map((m) => m.content);
}

function postsTo(world: World, channelId: string): DiscordRequest[] {
  return world.discord.requestsTo("POST", new RegExp(`^/channels/${channelId}/messages$`));
}

function editsIn(world: World, channelId: string): DiscordRequest[] {
  return world.discord.requestsTo("PATCH", new RegExp(`^/channels/${channelId}/messages/\\d+$`));
}

/** A user in the test guild mentions the bot. */
function mention(world: World, channelId: string, content: string, authorId = freshId()) {
  return world.discord.sendUserMessage({
    channelId,
    guildId: GUILD,
    content,
    mentionsBot: true,
    authorId,
    username: "민수",
  });
}

/** A user in the test guild says something without addressing the bot. */
function say(world: World, channelId: string, content: string, username = "민수") {
  return world.discord.sendUserMessage({
    channelId,
    guildId: GUILD,
    content,
    authorId: freshId(),
    username,
  });
}

function assertNoInvalidRequests(world: World): void {
  assert.deepEqual(
    world.discord.invalidRequests.map((r) => `${r.method} ${r.path}: ${r.errors.join("; ")}`),
    [],
  );
}

/** Every body the bot sent with text in it forbids pings: messages, edits, interactions. */
function assertNoPings(world: World): number {
  let checked = 0;
  for (const request of world.discord.requests) {
    if (request.method !== "POST" && request.method !== "PATCH") continue;
    const body = request.body as Record<string, unknown> | undefined;
    const payload = (body?.data ?? body) as Record<string, unknown> | undefined;
    if (typeof payload?.content !== "string") continue;
    const allowed = payload.allowed_mentions as { parse?: unknown[] } | undefined;
    assert.deepEqual(allowed?.parse, [], `${request.method} ${request.path} may ping`);
    checked++;
  }
  return checked;
}

/** The interaction's original response once it holds content other than "thinking". */
async function interactionAnswer(world: World, id: string): Promise<string> {
  await until(
    () => (world.discord.interaction(id)?.original?.content ?? "") !== "",
    `interaction ${id} answered`,
  );
  return world.discord.interaction(id)!.original!.content;
}

Deno.test("what users see, through the real bot", async (t) => {
  const world = await World.create();
  const personaFile = `${world.dataDir}/persona.txt`;
  const persona = "너는 테스트용 소예야. 반말로 한 문장만 말해.";
  try {
    let bot = await world.startBot({ ...FAST, DEV_GUILD_ID: GUILD });

    await t.step("slash commands are registered for DEV_GUILD_ID's guild only", async () => {
      const put = await world.discord.waitForRequest((r) => r.method === "PUT");
      assert.equal(
        put.path,
        `/applications/${world.discord.applicationId}/guilds/${GUILD}/commands`,
      );
      const commands = world.discord.commands(GUILD);
      assert.deepEqual(commands.map((c) => c.name).sort(), [
        "help",
        "reset",
        "settings",
        "status",
        "summarize",
      ]);
      const summarize = commands.find((c) => c.name === "summarize")!;
      assert.deepEqual(summarize.name_localizations, { ko: "요약" });
      assert.deepEqual(
        (summarize.options as { name: string }[]).map((o) => o.name),
        ["minutes", "after", "before"],
      );
      assert.deepEqual(world.discord.commands(), []);
      assertNoInvalidRequests(world);
    });

    await t.step(
      "a streamed reply shows its first text at once, then edits at most once a second",
      async () => {
        const channel = freshId();
        const reply =
          "음… 오늘은 방송 안 켤 거야. 어제 밤새 게임해서 너무 졸려. 내일 저녁에나 켤까 봐. " +
          "그때 와서 채팅이나 쳐 줘. 아 근데 숙제도 밀렸네. 망했다 진짜.";
        world.gemini.script({ text: reply, chunks: 8, chunkDelayMs: 400 });
        await mention(world, channel, "오늘 방송 해?");
        await until(() => botMessages(world, channel)[0] === reply, "the whole reply", 15_000);

        const [request] = requestsAbout(world, "오늘 방송 해?");
        assert.equal(request.action, "streamGenerateContent");
        const [first] = postsTo(world, channel);
        const firstContent = (first.body as { content: string }).content;
        assert.ok(reply.startsWith(firstContent) && firstContent.length < reply.length);
        assert.ok(
          first.at - request.at < 500,
          `first text ${first.at - request.at} ms after the call`,
        );
        const edits = editsIn(world, channel);
        assert.ok(edits.length >= 2, `only ${edits.length} edits`);
        const times = edits.map((e) => e.at);
        for (let i = 1; i < times.length; i++) {
          assert.ok(times[i] - times[i - 1] >= 900, `edits ${times[i] - times[i - 1]} ms apart`);
        }
        assert.equal((edits.at(-1)!.body as { content: string }).content, reply);
        assert.equal(postsTo(world, channel).length, 1);
        assertNoInvalidRequests(world);
      },
    );

    await t.step(
      "a reply past 2,000 characters continues in a new message without breaking its code block",
      async () => {
        const channel = freshId();
        const prose = "이건 그냥 길게 늘어놓는 설명이야. ".repeat(70).trim();
        const code = Array.from(
          { length: 40 },
          (_, i) => `  total += values[${i}] * ${i}; // 더하기`,
        )
          .join("\n");
        const reply =
          `${prose}\n\n${FENCE}js\nlet total = 0;\n${code}\n${FENCE}\n됐지? 이제 귀찮게 하지 마.`;
        assert.ok(reply.length > 2500);
        world.gemini.script({ text: reply, chunks: 6, chunkDelayMs: 150 });
        await mention(world, channel, "코드 좀 짜줘");
        await until(
          () => botMessages(world, channel).at(-1)?.endsWith("이제 귀찮게 하지 마.") === true,
          "the end of the long reply",
          15_000,
        );
        const shown = botMessages(world, channel);
        assert.equal(shown.length, 2);
        for (const content of shown) {
          assert.ok([...content].length <= 2000, `${[...content].length} characters`);
          assert.equal((content.match(/```/g) ?? []).length % 2, 0, `broken fence in:\n${content}`);
        }
        const strip = (s: string) => s.replace(/```(js)?/g, "").replace(/\s+/g, "");
        assert.equal(strip(shown.join("\n")), strip(reply));
        assertNoInvalidRequests(world);
      },
    );

    await t.step(
      "a stream that breaks halfway keeps what was shown and says it was cut off",
      async () => {
        const channel = freshId();
        const reply = "첫 조각은 잘 갔고, 두 번째 조각도 갔는데, 세 번째는 영영 안 와.";
        world.gemini.script({ text: reply, chunks: 3, breakAfter: 2, chunkDelayMs: 100 });
        await mention(world, channel, "끝까지 말해 봐");
        await until(
          () => botMessages(world, channel)[0]?.endsWith(text.interrupted) === true,
          "the cut-off notice",
        );
        const chars = Array.from(reply);
        const shownPart = chars.slice(0, 2 * Math.ceil(chars.length / 3)).join("").trimEnd();
        assert.deepEqual(botMessages(world, channel), [`${shownPart}\n\n${text.interrupted}`]);
        assertNoInvalidRequests(world);
      },
    );

    const summaryChannel = freshId();
    const said: { id: string; line: string }[] = [];
    await t.step(
      "!요약 summarises the last 30 minutes from a one-join transcript, bots skipped",
      async () => {
        for (
          const [name, content] of [
            ["민수", "오늘 저녁 7시에 모이자"],
            ["지수", "난 8시가 좋은데"],
            ["민수", "그럼 7시 반으로 하자"],
            ["하늘", "ㅇㅋ 역 앞에서 봐"],
          ]
        ) {
          const message = await say(world, summaryChannel, content, name);
          said.push({ id: message.id, line: `${name}: ${content}` });
        }
        await world.discord.sendUserMessage({
          channelId: summaryChannel,
          guildId: GUILD,
          content: "다른 봇의 공지",
          authorId: freshId(),
          bot: true,
        });
        const bullets = "- 저녁 약속을 7시 반으로 정함\n- 역 앞에서 만나기로 함";
        world.gemini.reply(bullets);
        await say(world, summaryChannel, "!요약");
        await until(() => botMessages(world, summaryChannel).length === 1, "the summary");

        const request = requestsAbout(world, "역 앞에서 봐").at(-1)!;
        assert.deepEqual(contentsOf(request), [["user", said.map((s) => s.line).join("\n")]]);
        assert.equal(request.body.systemInstruction.parts[0].text, SUMMARY_INSTRUCTION);
        assert.equal(
          botMessages(world, summaryChannel)[0],
          `${text.summaryHeaderRecent(30, 4)}\n${bullets}`,
        );
        assertNoInvalidRequests(world);
      },
    );

    await t.step(
      "!요약 reads 20분, 1시간, 1시간30분 and message ids with 이후 and 이전",
      async () => {
        const cases: [string, string, string[]][] = [
          ["!요약 20분", text.summaryHeaderRecent(20, 4), said.map((s) => s.line)],
          ["!요약 1시간", text.summaryHeaderRecent(60, 4), said.map((s) => s.line)],
          ["!요약 1시간30분", text.summaryHeaderRecent(90, 4), said.map((s) => s.line)],
          [
            `!요약 ${said[1].id} 이후`,
            text.summaryHeaderRange(text.summaryRange({ kind: "after", messageId: said[1].id }), 2),
            [said[2].line, said[3].line],
          ],
          [
            `!요약 ${said[0].id} 이후 30분`,
            text.summaryHeaderRange(
              text.summaryRange({ kind: "after", messageId: said[0].id, minutes: 30 }),
              3,
            ),
            said.slice(1).map((s) => s.line),
          ],
          [
            `!요약 ${said[2].id} 이전 1시간`,
            text.summaryHeaderRange(
              text.summaryRange({ kind: "before", messageId: said[2].id, minutes: 60 }),
              2,
            ),
            [said[0].line, said[1].line],
          ],
        ];
        for (const [command, header, lines] of cases) {
          const before = generateRequests(world).length;
          const shownBefore = botMessages(world, summaryChannel).length;
          world.gemini.reply("- 요점");
          await say(world, summaryChannel, command);
          await until(() => botMessages(world, summaryChannel).length > shownBefore, command);
          assert.equal(botMessages(world, summaryChannel).at(-1), `${header}\n- 요점`, command);
          const requests = generateRequests(world);
          assert.equal(requests.length, before + 1, command);
          assert.deepEqual(contentsOf(requests.at(-1)!), [["user", lines.join("\n")]], command);
        }
        assertNoInvalidRequests(world);
      },
    );

    await t.step(
      "!요약 with bad arguments answers how to write it, without calling Gemini",
      async () => {
        const cases: [string, string][] = [
          [`!요약 ${said[0].id} 이전`, text.summaryErrors.beforeNeedsTime],
          ["!요약 30", text.summaryErrors.unit],
          ["!요약 12345678 이후", text.summaryErrors.messageId],
          ["!요약 25시간", text.summaryErrors.range],
        ];
        const channel = freshId();
        const before = generateRequests(world).length;
        for (const [command, error] of cases) {
          const shown = botMessages(world, channel).length;
          await say(world, channel, command);
          await until(() => botMessages(world, channel).length > shown, command);
          assert.equal(botMessages(world, channel).at(-1), error, command);
        }
        assert.equal(generateRequests(world).length, before);
      },
    );

    await t.step("!요약 in a quiet channel says there is nothing to summarise", async () => {
      const channel = freshId();
      const before = generateRequests(world).length;
      await say(world, channel, "!요약");
      await until(() => botMessages(world, channel).length === 1, "the notice");
      assert.deepEqual(botMessages(world, channel), [text.summaryNothing]);
      assert.equal(generateRequests(world).length, before);
    });

    await t.step(
      "!요약 pages 100 messages at a time and stops at SUMMARY_MAX_MESSAGES (300)",
      async () => {
        const channel = freshId();
        for (let i = 0; i < 320; i++) await say(world, channel, `메시지 ${i}`, "수다쟁이");
        world.gemini.reply("- 다들 수다 떨었음");
        await say(world, channel, "!요약 1시간");
        await until(() => botMessages(world, channel).length === 1, "the summary", 15_000);
        assert.equal(
          botMessages(world, channel)[0],
          `${text.summaryHeaderRecent(60, 300)}\n- 다들 수다 떨었음`,
        );
        const pages = world.discord.requestsTo(
          "GET",
          new RegExp(`^/channels/${channel}/messages$`),
        );
        assert.ok(pages.length >= 3 && pages.length <= 4, `${pages.length} pages`);
        for (const page of pages) assert.equal(page.query.get("limit"), "100");
        const lines = contentsOf(requestsAbout(world, "메시지 319").at(-1)!)[0][1].split("\n");
        assert.equal(lines.length, 300);
        assert.equal(lines[0], "수다쟁이: 메시지 20");
        assert.equal(lines[299], "수다쟁이: 메시지 319");
        assertNoInvalidRequests(world);
      },
    );

    await t.step("a transcript over the model's budget is cut from the oldest end", async () => {
      const channel = freshId();
      const filler = "가나다라마바사".repeat(40); // 280 characters a message, 84,000 in all
      for (let i = 0; i < 300; i++) await say(world, channel, `긴 말 ${i} ${filler}`, "길게");
      world.gemini.reply("- 길게 말함");
      await say(world, channel, "!요약 1시간");
      await until(() => botMessages(world, channel).length === 1, "the summary", 15_000);
      const transcript = contentsOf(requestsAbout(world, "긴 말 299").at(-1)!)[0][1];
      const lines = transcript.split("\n");
      assert.ok(transcript.length <= 60_000, `${transcript.length} characters`);
      assert.ok(lines.length < 300 && lines.length > 150, `${lines.length} lines`);
      assert.ok(lines.at(-1)!.startsWith("길게: 긴 말 299 "));
      assert.ok(lines[0].startsWith(`길게: 긴 말 ${300 - lines.length} `));
      assert.equal(
        botMessages(world, channel)[0],
        `${text.summaryHeaderRecent(60, lines.length)}\n- 길게 말함`,
      );
    });

    await t.step(
      "/summarize answers with a deferred response, then the summary in @original",
      async () => {
        world.gemini.reply("- 7시 반 약속");
        // 25 minutes: `!요약 20분` above made that range's summary, which the cache would give.
        const { id } = await world.discord.sendInteraction({
          channelId: summaryChannel,
          guildId: GUILD,
          name: "summarize",
          options: [{ name: "minutes", type: 4, value: 25 }],
        });
        const answer = await interactionAnswer(world, id);
        assert.equal(answer, `${text.summaryHeaderRecent(25, 4)}\n- 7시 반 약속`);
        assert.deepEqual(world.discord.interaction(id)!.callbackTypes, [5]);
        const patch = world.discord.requests.find((r) =>
          r.method === "PATCH" && r.path.endsWith("/messages/@original") &&
          (r.body as { content?: string }).content === answer
        );
        assert.ok(patch, "the summary arrives as a PATCH of @original");

        world.gemini.reply("- 시간 정함");
        const after = await world.discord.sendInteraction({
          channelId: summaryChannel,
          guildId: GUILD,
          name: "summarize",
          // said[0]: `!요약 said[1] 이후` above made that range's summary already.
          options: [{ name: "after", type: 3, value: said[0].id }],
        });
        assert.equal(
          await interactionAnswer(world, after.id),
          `${
            text.summaryHeaderRange(text.summaryRange({ kind: "after", messageId: said[0].id }), 3)
          }\n- 시간 정함`,
        );

        const before = await world.discord.sendInteraction({
          channelId: summaryChannel,
          guildId: GUILD,
          name: "summarize",
          options: [{ name: "before", type: 3, value: said[1].id }],
        });
        assert.equal(await interactionAnswer(world, before.id), text.summaryErrors.beforeNeedsTime);
        assertNoInvalidRequests(world);
      },
    );

    await t.step("/help and !도움말 show the help text", async () => {
      const { id } = await world.discord.sendInteraction({
        channelId: freshId(),
        guildId: GUILD,
        name: "help",
      });
      assert.equal(await interactionAnswer(world, id), text.help);
      assert.deepEqual(world.discord.interaction(id)!.callbackTypes, [4]);
      const channel = freshId();
      await say(world, channel, "!도움말");
      await until(() => botMessages(world, channel).length === 1, "the help reply");
      assert.deepEqual(botMessages(world, channel), [text.help]);
      assertNoInvalidRequests(world);
    });

    await t.step(
      "/status shows the queue, quota left per minute and day, sessions and latency",
      async () => {
        const { id } = await world.discord.sendInteraction({
          channelId: freshId(),
          guildId: GUILD,
          name: "status",
        });
        const status = await interactionAnswer(world, id);
        assert.match(status, /대기열: 0건/);
        assert.match(status, /활성 세션: \d+개/);
        assert.match(status, /응답 시간 중앙값: \d+\.\d초/);
        assert.match(status, /이번 분 \d+회, 오늘 \d+회 남음/);
        assertNoInvalidRequests(world);
      },
    );

    await t.step("bots, webhooks, system messages and @everyone alone are ignored", async () => {
      const channel = freshId();
      const before = generateRequests(world).length;
      const base = { channelId: channel, guildId: GUILD, mentionsBot: true };
      await world.discord.sendUserMessage({ ...base, content: "봇이 부름", bot: true });
      await world.discord.sendUserMessage({
        ...base,
        content: "웹훅이 부름",
        webhookId: freshId(),
      });
      await world.discord.sendUserMessage({ ...base, content: "들어옴", type: 7 });
      await world.discord.sendUserMessage({
        channelId: channel,
        guildId: GUILD,
        content: "다들 모여",
        mentionEveryone: true,
        authorId: freshId(),
      });
      await mention(world, channel, "나만 불렀어");
      await until(() => botMessages(world, channel).length === 1, "the one reply");
      await delay(300);
      assert.equal(botMessages(world, channel).length, 1);
      assert.equal(generateRequests(world).length, before + 1);
      assert.deepEqual(contentsOf(generateRequests(world).at(-1)!), [[
        "user",
        "민수: 나만 불렀어",
      ]]);
    });

    await t.step("DMs are answered, each DM channel its own session", async () => {
      const [dmA, dmB] = [freshId(), freshId()];
      const [userA, userB] = [freshId(), freshId()];
      const dm = (channelId: string, authorId: string, content: string) =>
        world.discord.sendUserMessage({ channelId, content, authorId, username: "지수" });
      await dm(dmA, userA, "디엠 첫 마디");
      await until(() => botMessages(world, dmA).length === 1, "the first DM reply");
      await dm(dmB, userB, "다른 디엠");
      await until(() => botMessages(world, dmB).length === 1, "the other DM reply");
      await dm(dmA, userA, "디엠 두 번째");
      await until(() => botMessages(world, dmA).length === 2, "the second DM reply");
      assert.deepEqual(contentsOf(requestsAbout(world, "다른 디엠")[0]), [[
        "user",
        "지수: 다른 디엠",
      ]]);
      const second = requestsAbout(world, "디엠 두 번째")[0];
      assert.deepEqual(contentsOf(second).map(([role]) => role), ["user", "model", "user"]);
      assert.equal(world.discord.messagesIn(dmA)[0].guild_id, undefined);
      assertNoInvalidRequests(world);
    });

    await t.step("nothing the model writes can ping anyone", async () => {
      const channel = freshId();
      const reply =
        "@everyone 다 모여 ㅋㅋ <@1200000000000000001> 너도 <@&1300000000000000001> @here";
      world.gemini.script({ text: reply, chunks: 3, chunkDelayMs: 600 });
      await mention(world, channel, "다 불러 봐");
      await until(() => botMessages(world, channel)[0] === reply, "the reply");
      assert.ok(editsIn(world, channel).length >= 1, "the reply was edited while it streamed");
      const checked = assertNoPings(world);
      assert.ok(checked > 20, `only ${checked} bodies checked`);
    });

    await t.step(
      "a user over USER_RATE_LIMIT (5 per 30 s) is told once and not answered",
      async () => {
        const channel = freshId();
        const user = freshId();
        const before = generateRequests(world).length;
        for (let i = 0; i < 8; i++) await mention(world, channel, `도배 ${i}`, user);
        await until(() => botMessages(world, channel).length === 6, "5 replies and 1 notice");
        await delay(300);
        const shown = botMessages(world, channel);
        const notices = shown.filter((m) => m.startsWith("너무 빨라."));
        assert.equal(notices.length, 1, shown.join("\n"));
        assert.match(notices[0], /^너무 빨라\. \d+초만 쉬었다가 말 걸어줘\.$/);
        assert.equal(generateRequests(world).length, before + 5);
        assertNoInvalidRequests(world);
      },
    );

    const resetChannel = freshId();
    await t.step("/reset forgets the channel's session at once", async () => {
      await mention(world, resetChannel, "내 이름은 철수야");
      await until(() => botMessages(world, resetChannel).length === 1, "the first reply");
      await mention(world, resetChannel, "기억나?");
      await until(() => botMessages(world, resetChannel).length === 2, "the second reply");
      assert.equal(contentsOf(requestsAbout(world, "기억나?")[0]).length, 3);

      const { id } = await world.discord.sendInteraction({
        channelId: resetChannel,
        guildId: GUILD,
        name: "reset",
      });
      assert.equal(await interactionAnswer(world, id), text.resetDone);
      await mention(world, resetChannel, "나 누구게?");
      await until(() => botMessages(world, resetChannel).length === 4, "the reply after reset");
      assert.deepEqual(contentsOf(requestsAbout(world, "나 누구게?")[0]), [[
        "user",
        "민수: 나 누구게?",
      ]]);

      const again = await world.discord.sendInteraction({
        channelId: resetChannel,
        guildId: GUILD,
        name: "reset",
      });
      assert.equal(await interactionAnswer(world, again.id), text.resetDone);
      assertNoInvalidRequests(world);
    });

    await t.step("after a restart, the reset channel still has no history", async () => {
      assert.equal((await bot.stop()).code, 0);
      await Deno.writeTextFile(
        `${world.dataDir.startsWith("/") ? "" : "./"}${personaFile}`,
        persona,
      );
      const putsBefore = world.discord.requestsTo("PUT", /commands$/).length;
      bot = await world.startBot({ ...FAST, PERSONA_FILE: personaFile });
      const shown = botMessages(world, resetChannel).length;
      await mention(world, resetChannel, "재시작했어?");
      await until(() => botMessages(world, resetChannel).length > shown, "the reply after restart");
      const request = requestsAbout(world, "재시작했어?")[0];
      assert.deepEqual(contentsOf(request), [["user", "민수: 재시작했어?"]]);
      assert.ok(
        world.gemini.requests.some((r) => JSON.stringify(r.body ?? {}).includes(persona)),
        "PERSONA_FILE's text reaches Gemini",
      );
      // Without DEV_GUILD_ID the commands go to the global route.
      const puts = world.discord.requestsTo("PUT", /commands$/).slice(putsBefore);
      assert.deepEqual(puts.map((r) => r.path), [
        `/applications/${world.discord.applicationId}/commands`,
      ]);
      assertNoInvalidRequests(world);
    });
  } finally {
    await world.close();
  }
});

Deno.test("a bad PERSONA_FILE stops the start with exit code 2 and names the variable", async () => {
  const dir = `data/test-persona-${crypto.randomUUID()}`;
  await Deno.mkdir(dir, { recursive: true });
  try {
    await Deno.writeTextFile(`${dir}/empty.txt`, " \n");
    await Deno.writeTextFile(`${dir}/long.txt`, "가".repeat(2501));
    const env = (file: string) => ({
      DISCORD_TOKEN: `${btoa("1100000000000000001")}.fake.token`,
      GEMINI_API_KEY: "test-key",
      DATA_DIR: dir,
      PERSONA_FILE: file,
    });
    const cases = [`${dir}/missing.txt`, `${dir}/empty.txt`, `${dir}/long.txt`];
    const bots = cases.map((file) => new BotProcess(env(file)));
    const statuses = await Promise.all(bots.map((b) => b.exited));
    for (const [i, status] of statuses.entries()) {
      assert.equal(status.code, 2, bots[i].output);
      assert.match(bots[i].output, /PERSONA_FILE/);
      assert.ok(bots[i].output.includes(cases[i]), bots[i].output);
    }
    assert.match(bots[1].output, /empty/);
    assert.match(bots[2].output, /at most 2500 characters: it has 2501/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
