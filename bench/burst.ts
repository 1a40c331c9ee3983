/**
 * Burst benchmark: 200 mentions in 200 channels within one second, each answered by a fake Gemini
 * that streams its answer in 4 chunks over 1 s (the naive bot's unary call answers after the
 * same second). SoyeBot runs as `deno task start` runs it, with its default `DISCORD_REST_RATE`;
 * the naive bot of `bench/naive_bot.ts` ignores Discord's limit.
 *
 * Printed per bot, from the fake Discord's request log: the time from the first mention to the
 * last answer shown in full, REST requests per answer (typing, posts, edits, deletes), and the
 * most requests in any sliding second, which Discord caps at about 50 per bot token.
 *
 * Run: `deno run -P=bench bench/burst.ts [--check]`; `--check` exits 1 when SoyeBot misses a goal.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { FakeDiscord } from "../tests/fakes/fake_discord.ts";
import { FakeGemini } from "../tests/fakes/fake_gemini.ts";
import { fakesEnv, GEMINI_KEY } from "../tests/harness.ts";
import { answerWatch } from "./answer_watch.ts";
import { BotChild } from "./bot_child.ts";
import { koreanLine } from "./chat_text.ts";
import { type BotCommand, NAIVE, PAID_TIER, soyeBotCommand } from "./e2e.ts";
import { sideBySide } from "./report.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const GUILD = "1300000000000000001";
/** Mentions, each in its own channel from its own user. */
const MENTIONS = 200;
/** The mentions are spread evenly over this long. */
const BURST_MS = 1_000;
/** Each streamed answer: this many chunks, this far apart (4 chunks over 1 s). */
const CHUNKS = 4;
const CHUNK_GAP_MS = Math.round(1_000 / (CHUNKS - 1));
/** The naive bot's unary answer takes as long as the whole stream. */
const UNARY_MS = 1_000;
/** After the last answer, how long late requests (a stray edit, typing) are still counted. */
const SETTLE_MS = 2_000;
/** Discord's global limit, per bot token, in any second. */
const DISCORD_LIMIT = 50;
const GOALS = { lastAnswerSeconds: 8, requestsPerAnswer: 1.5, busiestSecond: DISCORD_LIMIT };
/** The answer: about 300 Korean characters, complete when a message shows exactly this. */
const REPLY = koreanLine(7);
/** SoyeBot as `deno task start` runs it, every Discord setting at its default. */
const SOYEBOT_ENV = {
  ...PAID_TIER,
  // Gemini streams all 200 answers at once, so only Discord's budget holds them back.
  GEMINI_MAX_CONCURRENCY: String(MENTIONS),
  LOG_LEVEL: "warning",
};

/** What the burst did to one bot. */
export interface BurstFigures {
  bot: string;
  /** From the first mention to the last answer shown in full. */
  lastAnswerSeconds: number;
  /** Half the answers were shown in full by then. */
  medianAnswerSeconds: number;
  requestsPerAnswer: number;
  busiestSecond: number;
  /** Answers (or parts of them) Discord saw posted, edited or deleted, and typing. */
  posts: number;
  edits: number;
  typing: number;
  rateLimited: number;
  invalidRequests: number;
}

/** Starts one bot on fresh fakes, waits until it is connected and quiet, sends the burst. */
export async function measureBurst(command: BotCommand, streamed: boolean): Promise<BurstFigures> {
  const discord = await FakeDiscord.start();
  const gemini = await FakeGemini.start({ apiKeys: [GEMINI_KEY], responder: () => REPLY });
  const dataDir = `data/bench-burst-${crypto.randomUUID()}`;
  await Deno.mkdir(`${ROOT}${dataDir}`, { recursive: true });
  const bot = new BotChild(command.args, {
    cwd: ROOT,
    env: { ...fakesEnv(discord, gemini, dataDir), ...command.env },
  });
  try {
    await bot.until(() => discord.identified > 0, "identify on the gateway", 60_000);
    // Let start-up work (command registration, the key check, the persona cache) finish.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (let i = 0; i < MENTIONS; i++) {
      gemini.script(
        streamed ? { chunks: CHUNKS, chunkDelayMs: CHUNK_GAP_MS } : { delayFirstMs: UNARY_MS },
      );
    }
    const { waitForAnswer } = answerWatch(discord, { reply: REPLY, timeoutMs: 120_000 });
    const requestsBefore = discord.requests.length;
    const started = Date.now();
    const answeredAt: Promise<number>[] = [];
    for (let i = 0; i < MENTIONS; i++) {
      const channelId = String(1400000000000000000n + BigInt(i));
      const authorId = String(1500000000000000000n + BigInt(i));
      answeredAt.push(waitForAnswer(channelId, `channel ${i}`).then(() => Date.now() - started));
      const dueAt = started + (i * BURST_MS) / MENTIONS;
      const wait = dueAt - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await discord.sendUserMessage({
        channelId,
        guildId: GUILD,
        authorId,
        username: `user${i}`,
        content: `질문 ${i}: 오늘 뭐 해?`,
        mentionsBot: true,
      });
    }
    const times = (await Promise.all(answeredAt)).sort((a, b) => a - b);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const sent = discord.requests.slice(requestsBefore)
      .filter((r) => !r.path.startsWith("/interactions/"));
    const count = (method: string, path: RegExp) =>
      sent.filter((r) => r.method === method && path.test(r.path)).length;
    return {
      bot: command.label,
      lastAnswerSeconds: times.at(-1)! / 1000,
      medianAnswerSeconds: times[Math.floor(times.length / 2)] / 1000,
      requestsPerAnswer: sent.length / MENTIONS,
      busiestSecond: discord.busiestSecond(started),
      posts: count("POST", /^\/channels\/\d+\/messages$/),
      edits: count("PATCH", /^\/channels\/\d+\/messages\/\d+$/),
      typing: count("POST", /^\/channels\/\d+\/typing$/),
      rateLimited: sent.filter((r) => r.status === 429).length,
      invalidRequests: discord.invalidRequests.length,
    };
  } catch (error) {
    throw new Error(`${command.label}: ${error}\nit printed, last:\n${bot.tail}`);
  } finally {
    await bot.stop();
    await discord.close();
    await gemini.close();
    await Deno.remove(`${ROOT}${dataDir}`, { recursive: true }).catch(() => {});
  }
}

/** Formats the bots side by side. */
export function burstTable(rows: BurstFigures[]): string {
  const lines: [string, (f: BurstFigures) => number, number][] = [
    ["last answer complete (s)", (f) => f.lastAnswerSeconds, 2],
    ["half the answers complete (s)", (f) => f.medianAnswerSeconds, 2],
    ["REST requests per answer", (f) => f.requestsPerAnswer, 2],
    ["busiest second (requests)", (f) => f.busiestSecond, 0],
    ["posts", (f) => f.posts, 0],
    ["edits", (f) => f.edits, 0],
    ["typing", (f) => f.typing, 0],
    ["429 answers", (f) => f.rateLimited, 0],
    ["requests Discord would refuse", (f) => f.invalidRequests, 0],
  ];
  const header = ["", ...rows.map((r) => r.bot)];
  const body = lines.map(([label, value, digits]) => [
    label,
    ...rows.map((r) => value(r).toFixed(digits)),
  ]);
  return sideBySide(header, body);
}

/** SoyeBot's goals, each with its figure and whether it was met. */
export function burstGoals(soye: BurstFigures): { text: string; met: boolean }[] {
  return [
    {
      text: `last answer ${soye.lastAnswerSeconds.toFixed(2)} s ≤ ${GOALS.lastAnswerSeconds} s`,
      met: soye.lastAnswerSeconds <= GOALS.lastAnswerSeconds,
    },
    {
      text: `${soye.requestsPerAnswer.toFixed(2)} requests per answer ≤ ${GOALS.requestsPerAnswer}`,
      met: soye.requestsPerAnswer <= GOALS.requestsPerAnswer,
    },
    {
      text: `busiest second ${soye.busiestSecond} ≤ ${GOALS.busiestSecond}`,
      met: soye.busiestSecond <= GOALS.busiestSecond,
    },
  ];
}

if (import.meta.main) {
  const args = parseArgs({ args: Deno.args, options: { check: { type: "boolean" } } });
  console.log(
    `## burst: ${MENTIONS} mentions in ${MENTIONS} channels within ${BURST_MS / 1000} s, each ` +
      `answer streamed in ${CHUNKS} chunks over 1 s (naive: one unary answer after 1 s) ` +
      `(Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, load average ` +
      `${Deno.loadavg()[0].toFixed(2)}); SoyeBot at its default DISCORD_REST_RATE, the naive bot ` +
      `unpaced\n`,
  );
  const soye = await measureBurst(await soyeBotCommand({ env: SOYEBOT_ENV }), true);
  const naive = await measureBurst({ ...NAIVE, env: PAID_TIER }, false);
  console.log(burstTable([soye, naive]));
  console.log(`\nGoals for SoyeBot (Discord allows about ${DISCORD_LIMIT} requests a second):`);
  const results = burstGoals(soye);
  for (const goal of results) console.log(`  ${goal.met ? "met   " : "MISSED"} ${goal.text}`);
  if (args.values.check && results.some((g) => !g.met)) Deno.exit(1);
}
