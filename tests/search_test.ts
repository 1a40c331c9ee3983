/**
 * Google Search grounding, end to end: the real bot process (`deno run -P=bot main.ts`) against
 * the fake Discord (every request held against Discord's OpenAPI spec) and the fake Gemini,
 * which replays Gemini 3's recorded grounded stream when a request carries the search tool.
 * Search is turned on per server with `/settings search`, over the operator's `GEMINI_SEARCH`.
 */
import assert from "node:assert/strict";
import { ROOT, until, World } from "./harness.ts";
import { SEARCH_RECORDINGS } from "./fakes/fake_gemini.ts";
import type { RecordedRequest as GeminiRequest } from "./fakes/fake_gemini.ts";
import { text } from "../lib/text/strings_ko.ts";

const GUILD_ON = "1300000000000000001";
const GUILD_OFF = "1300000000000000002";
/** Manage Server (1 << 5) and the text permissions everyone has. */
const ADMIN = String((1n << 5n) | 2248473465835073n);
const FAST = { GEMINI_RPM: "1000", GEMINI_RPD: "100000" };

let nextId = 0n;
/** A fresh snowflake-shaped id, for a channel or a user no other step uses. */
function freshId(): string {
  return String(1400000000000000000n + ++nextId);
}

type Part = Record<string, unknown> & { text?: string; thoughtSignature?: string };
type Content = { role: string; parts: Part[] };

/** The model turn's parts as the recorded stream sent them, every event's in order. */
async function recordedParts(): Promise<Part[]> {
  const file = new URL(
    `fixtures/gemini-recordings/${SEARCH_RECORDINGS.first}`,
    `file://${ROOT}tests/`,
  );
  const events = (await Deno.readTextFile(file)).split(/\r?\n/)
    .filter((line) => line.startsWith("data:"))
    .map((line) => JSON.parse(line.slice(5)));
  return events.flatMap((e) => e.candidates?.[0]?.content?.parts ?? []);
}

function botMessages(world: World, channelId: string): string[] {
  return world.discord.messagesIn(channelId)
    .filter((m) => m.author.id === world.discord.botId && !m.deleted && !m.interaction_metadata)
    .map((m) => m.content);
}

function requestsAbout(world: World, marker: string): GeminiRequest[] {
  return world.generateRequests().filter((r) => JSON.stringify(r.body.contents).includes(marker));
}

async function talk(world: World, guildId: string, channelId: string, content: string) {
  const before = botMessages(world, channelId).length;
  await world.discord.sendUserMessage({
    channelId,
    guildId,
    content,
    mentionsBot: true,
    authorId: freshId(),
    username: "민수",
  });
  await until(() => botMessages(world, channelId).length > before, `a reply to ${content}`);
  // The final edit (sources under the text) follows the first post.
  await until(
    () => requestsAbout(world, content).every((r) => r.bodyEnd?.how === "complete"),
    "the answer read to its end",
  );
}

async function command(
  world: World,
  guildId: string,
  name: string,
  subcommand?: string,
  options?: { name: string; type: number; value: unknown }[],
): Promise<string> {
  const { id } = await world.discord.sendInteraction({
    channelId: freshId(),
    guildId,
    memberPermissions: ADMIN,
    name,
    ...(subcommand ? { subcommand } : {}),
    ...(options ? { options } : {}),
  });
  await until(
    () => (world.discord.interaction(id)?.original?.content ?? "") !== "",
    `${name} answered`,
  );
  return world.discord.interaction(id)!.original!.content;
}

function hasSearchTool(request: GeminiRequest): boolean {
  return JSON.stringify(request.body.tools ?? []).includes("googleSearch");
}

Deno.test("Google Search grounding, end to end through the real bot", async (t) => {
  const world = await World.create();
  const channelOn = freshId();
  try {
    let bot = await world.startBot({ ...FAST, HTTP_PORT: "0" });
    const endpoints = /Operations endpoints on http:\/\/([\d.]+):(\d+)\//;
    await bot.waitForOutput(endpoints);
    const [, host, port] = bot.output.match(endpoints)!;

    await t.step("/settings search turns it on for one server (Manage Server)", async () => {
      const answer = await command(world, GUILD_ON, "settings", "search", [
        { name: "enabled", type: 5, value: true },
      ]);
      assert.equal(answer, text.settings.searchOn);
    });

    await t.step(
      "in that server a question reaches Gemini with the tool, and the answer shows its sources",
      async () => {
        await talk(world, GUILD_ON, channelOn, "멕시코에서 제일 큰 도시는?");
        const [request] = requestsAbout(world, "제일 큰 도시");
        assert.deepEqual(request.body.tools, [{ googleSearch: {} }]);
        assert.equal(request.body.cachedContent, undefined, "never a cache beside a tool");
        assert.ok(request.body.systemInstruction, "the persona goes as an instruction");
        await until(
          () => botMessages(world, channelOn).join("\n").includes(`-# ${text.sourcesLabel}:`),
          "the sources under the answer",
        );
        const answer = botMessages(world, channelOn).join("\n");
        assert.match(answer, /^The largest city in Mexico is \*\*Mexico City\*\*/);
        const links = [...answer.matchAll(/\[([^\]]+)\]\(<(https:\/\/[^>]+)>\)/g)];
        assert.deepEqual(links.map((l) => l[1]), [
          "worldstats.io",
          "wikipedia.org",
          "worldpopulationreview.com",
        ]);
        for (const [, , url] of links) {
          assert.match(
            url,
            /^https:\/\/vertexaisearch\.cloud\.google\.com\/grounding-api-redirect\//,
          );
        }
        assert.match(answer, new RegExp(`\\n-# ${text.sourcesLabel}: \\[worldstats\\.io\\]`));
        // Masked links in angle brackets, never embeds.
        for (const r of world.discord.requests.filter((r) => r.path.startsWith("/channels/"))) {
          assert.equal((r.body as { embeds?: unknown } | undefined)?.embeds, undefined);
        }
        assert.deepEqual(world.discord.invalidRequests, []);
      },
    );

    await t.step("the next turn sends the grounded model turn back whole", async () => {
      await talk(world, GUILD_ON, channelOn, "그 도시는 어느 나라에 있어?");
      const [next] = requestsAbout(world, "어느 나라에");
      assert.ok(hasSearchTool(next));
      const contents = next.body.contents as Content[];
      const model = contents.filter((c) => c.role === "model");
      assert.equal(model.length, 1);
      const sent = model[0].parts;
      const received = await recordedParts();
      // Every part that carried more than text went back exactly as received, in order.
      const whole = (parts: Part[]) =>
        parts.filter((p) => Object.keys(p).some((k) => k !== "text"));
      assert.deepEqual(whole(sent), whole(received));
      assert.ok(sent.some((p) => p.toolCall && p.thoughtSignature), "the search call, signed");
      assert.ok(sent.some((p) => p.toolResponse && p.thoughtSignature), "its response, signed");
      assert.equal(
        sent.map((p) => p.text ?? "").join(""),
        received.map((p) => p.text ?? "").join(""),
      );
      // The recorded next turn has no sources: none are shown.
      assert.equal(
        botMessages(world, channelOn).at(-1),
        "Mexico City is in **Mexico**. It serves as the country's capital and its political, " +
          "economic, and cultural center.",
      );
    });

    await t.step("summaries never search", async () => {
      const channelId = freshId();
      await world.discord.sendUserMessage({
        channelId,
        guildId: GUILD_ON,
        content: "요약해볼 만한 이야기",
        authorId: freshId(),
        username: "지수",
      });
      const before = world.generateRequests().length;
      await world.discord.sendUserMessage({
        channelId,
        guildId: GUILD_ON,
        content: text.textCommands.summarize,
        authorId: freshId(),
        username: "지수",
      });
      await until(() => world.generateRequests().length > before, "the summary's call");
      assert.equal(hasSearchTool(world.generateRequests()[before]), false);
    });

    await t.step("/metrics counts grounded answers and the searches they ran", async () => {
      const metrics = await (await fetch(`http://${host}:${port}/metrics`)).text();
      assert.match(metrics, /^soyebot_gemini_grounded_calls_total 1$/m);
      assert.match(metrics, /^soyebot_gemini_search_queries_total 2$/m);
    });

    await t.step("/status says search is on here, and today's count and its cost", async () => {
      const status = await command(world, GUILD_ON, "status");
      assert.match(status, /^- 구글 검색: 켜짐$/m);
      assert.match(
        status,
        /- 오늘 구글 검색: 답변 1개, 검색 2회 \(한 달 5,000회 무료, 그 뒤 1,000회당 \$14\)/,
      );
    });

    await t.step("in a server without it, no request carries the tool", async () => {
      const channelId = freshId();
      await talk(world, GUILD_OFF, channelId, "오늘 경기 점수 알려줘");
      const [request] = requestsAbout(world, "오늘 경기 점수");
      assert.equal(request.body.tools, undefined);
      assert.doesNotMatch(botMessages(world, channelId)[0], new RegExp(text.sourcesLabel));
      assert.match(await command(world, GUILD_OFF, "status"), /^- 구글 검색: 꺼짐$/m);
    });

    await t.step(
      "with GEMINI_SEARCH=off no request carries it; the stored grounded turn still goes back whole",
      async () => {
        await bot.stop();
        bot = await world.startBot({ ...FAST, GEMINI_SEARCH: "off" });
        await talk(world, GUILD_ON, channelOn, "고마워 정리해줘");
        const [request] = requestsAbout(world, "고마워 정리해줘");
        assert.equal(request.body.tools, undefined);
        // The window came back from SQLite with the model turn's parts.
        const model = (request.body.contents as Content[]).filter((c) => c.role === "model");
        assert.ok(model[0].parts.some((p) => p.toolCall && p.thoughtSignature));
        assert.match(await command(world, GUILD_ON, "status"), /- 구글 검색: 꺼짐 \(운영자가/);
        // An admin turning it on is not told the bot will search: the operator's switch wins.
        const turnedOn = await command(world, GUILD_OFF, "settings", "search", [
          { name: "enabled", type: 5, value: true },
        ]);
        assert.equal(turnedOn, `${text.settings.searchOn}\n${text.settings.searchOperatorOff}`);
        await bot.stop();
      },
    );

    await t.step(
      "with GEMINI_SEARCH=always even a server that never turned it on, and a DM, search",
      async () => {
        bot = await world.startBot({ ...FAST, GEMINI_SEARCH: "always" });
        await talk(world, GUILD_OFF, freshId(), "어디서나 검색돼?");
        assert.ok(hasSearchTool(requestsAbout(world, "어디서나 검색돼?")[0]));
        const dm = freshId();
        await world.discord.sendUserMessage({
          channelId: dm,
          content: "DM에서도?",
          authorId: freshId(),
          username: "민수",
        });
        await until(() => requestsAbout(world, "DM에서도?").length === 1, "the DM's call");
        assert.ok(hasSearchTool(requestsAbout(world, "DM에서도?")[0]));
        // Nor is an admin turning it off told the bot won't search.
        const turnedOff = await command(world, GUILD_OFF, "settings", "search", [
          { name: "enabled", type: 5, value: false },
        ]);
        assert.equal(
          turnedOff,
          `${text.settings.searchOff}\n${text.settings.searchOperatorAlways}`,
        );
        await bot.stop();
      },
    );
  } finally {
    await world.close();
  }
});

Deno.test("GEMINI_SEARCH with another value exits 2 naming it and what it takes", async () => {
  const world = await World.create();
  try {
    const bot = await import("./harness.ts").then((h) =>
      new h.BotProcess(world.env({ GEMINI_SEARCH: "sometimes" }))
    );
    const status = await bot.exited;
    assert.equal(status.code, 2);
    assert.match(bot.output, /GEMINI_SEARCH must be one of off, servers, always/);
  } finally {
    await world.close();
  }
});
