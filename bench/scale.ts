/**
 * Scale-out benchmark: 1, 2 and 4 bot processes (`SHARDS=i` of `SHARD_COUNT=N`), each started as
 * `deno task start` starts it, against one fake Discord with a sharded gateway, one fake Gemini
 * enforcing one quota, and one real `redis-server` they share.
 *
 * The load: more messages than the quota allows in a minute, spread evenly over the shards'
 * guilds, all sent at once. Measured per run: answers per second (until the last answer), quota
 * utilisation (Gemini calls answered / the quota's calls), 429s from the quota, the busiest
 * second of Discord requests over all processes, and Redis commands per answer (`INFO`'s
 * `total_commands_processed` over the load, leases, settles and session writes included).
 *
 * Run: `deno run -P=bench bench/scale.ts`. `BENCH_SCALE_PROCESSES` (`1,2,4`),
 * `BENCH_SCALE_MESSAGES` (150) and `BENCH_SCALE_RPM` (120) change the load.
 *
 * @module
 */
import { DISCORD_REQUESTS_PER_SECOND } from "../lib/discord/budget.ts";
import { FakeDiscord } from "../tests/fakes/fake_discord.ts";
import { FakeGemini } from "../tests/fakes/fake_gemini.ts";
import { fakesEnv, GEMINI_KEY } from "../tests/harness.ts";
import { REDIS_MISSING, RedisServer } from "../tests/redis_server.ts";
import { BotChild } from "./bot_child.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** How long a message past the quota waits before its notice. */
const MAX_WAIT_SECONDS = 10;
const REPLY_TIMEOUT_MS = 120_000;

/** A guild on shard `shard` of `count`: Discord's rule is `(guild_id >> 22) % shard_count`. */
function guildOn(shard: number, count: number): string {
  const timestamp = (1n << 40n) + BigInt(shard) - ((1n << 40n) % BigInt(count));
  return String((timestamp << 22n) | 7n);
}

/** One run's figures. */
export interface ScaleFigures {
  processes: number;
  messages: number;
  answersPerSecond: number;
  quotaUtilisation: number;
  rejected429: number;
  busiestDiscordSecond: number;
  redisCommandsPerAnswer: number;
}

/** Runs `processes` bots on one Redis and measures the load. */
export async function runScale(
  processes: number,
  messages: number,
  rpm: number,
): Promise<ScaleFigures> {
  const redis = await RedisServer.start();
  const discord = await FakeDiscord.start({ shards: processes });
  const gemini = await FakeGemini.start({ apiKeys: [GEMINI_KEY], quota: { rpm } });
  const dataDir = `data/bench-scale-${crypto.randomUUID()}`;
  const bots: BotChild[] = [];
  try {
    for (let shard = 0; shard < processes; shard++) {
      const identified = discord.identified;
      const bot = new BotChild(startArgs(), {
        cwd: ROOT,
        env: {
          ...fakesEnv(discord, gemini, dataDir),
          REDIS_URL: redis.url(),
          SHARDS: String(shard),
          SHARD_COUNT: String(processes),
          GEMINI_RPM: String(rpm),
          // The free-tier default of 20 a day would end the run long before the minute quota.
          GEMINI_RPD: "1000000",
          GEMINI_MAX_WAIT_SECONDS: String(MAX_WAIT_SECONDS),
          USER_RATE_LIMIT: "10000",
          LOG_LEVEL: "warning",
        },
      });
      bots.push(bot);
      await bot.until(() => discord.identified > identified, "identify", 30_000).catch((e) => {
        throw new Error(`${e.message}; it printed:\n${bot.tail}`);
      });
    }
    const commandsBefore = await redis.info("total_commands_processed");
    const started = Date.now();
    const sent: { channelId: string; id: string }[] = [];
    for (let i = 0; i < messages; i++) {
      const shard = i % processes;
      const channelId = `12000000000${String(shard).padStart(2, "0")}${String(i).padStart(6, "0")}`;
      const message = await discord.sendUserMessage({
        channelId,
        guildId: guildOn(shard, processes),
        content: `질문 ${i}`,
        mentionsBot: true,
        username: `사람${i}`,
      });
      sent.push({ channelId, id: message.id });
    }
    const replied = () =>
      sent.every(({ channelId, id }) =>
        discord.messagesIn(channelId).some((m) =>
          m.author.bot && !m.deleted && m.message_reference?.message_id === id
        )
      );
    const answers = () =>
      gemini.requests.filter((r) =>
        (r.action === "generateContent" || r.action === "streamGenerateContent") &&
        r.status === 200
      );
    // Answers per second until the last answer: the notices past the quota wait their time.
    let lastAnswerAt = started;
    let answered = 0;
    await bots[0].until(
      () => {
        const now = answers().length;
        if (now > answered) [answered, lastAnswerAt] = [now, Date.now()];
        return replied();
      },
      "reply to every message",
      REPLY_TIMEOUT_MS,
    );
    const seconds = Math.max(0.001, (lastAnswerAt - started) / 1000);
    const commands = (await redis.info("total_commands_processed")) - commandsBefore;
    return {
      processes,
      messages,
      answersPerSecond: answered / seconds,
      quotaUtilisation: answered / Math.min(rpm, messages),
      rejected429: gemini.stats.rejected429,
      busiestDiscordSecond: discord.busiestSecond(started),
      redisCommandsPerAnswer: commands / Math.max(1, answered),
    };
  } finally {
    await Promise.all(bots.map((bot) => bot.stop()));
    await discord.close();
    await gemini.close();
    await redis.stop();
    await Deno.remove(`${ROOT}${dataDir}`, { recursive: true }).catch(() => {});
  }
}

/** The start task's `deno` arguments, read from deno.json so the bench runs what users run. */
function startArgs(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const task: string = config.tasks.start;
  return task.split(/\s+/).slice(1);
}

function table(rows: ScaleFigures[]): string {
  const header =
    "| processes | answers/s | quota used | 429s | busiest Discord second | Redis cmds/answer |";
  const rule =
    "| --------- | --------- | ---------- | ---- | ---------------------- | ----------------- |";
  const lines = rows.map((r) =>
    `| ${r.processes} | ${r.answersPerSecond.toFixed(1)} | ${
      (r.quotaUtilisation * 100).toFixed(0)
    }% | ${r.rejected429} | ${r.busiestDiscordSecond} | ${r.redisCommandsPerAnswer.toFixed(1)} |`
  );
  return [header, rule, ...lines].join("\n");
}

if (import.meta.main) {
  if (REDIS_MISSING) {
    console.log("bench/scale.ts: redis-server is not installed; skipped");
    Deno.exit(0);
  }
  const counts = (Deno.env.get("BENCH_SCALE_PROCESSES") ?? "1,2,4").split(",").map(Number);
  const messages = Number(Deno.env.get("BENCH_SCALE_MESSAGES") ?? 150);
  const rpm = Number(Deno.env.get("BENCH_SCALE_RPM") ?? 120);
  const rows: ScaleFigures[] = [];
  for (const processes of counts) {
    rows.push(await runScale(processes, messages, rpm));
    console.log(JSON.stringify(rows.at(-1)));
  }
  console.log(
    `\n${messages} messages at once, a ${rpm} RPM quota, Discord at ${DISCORD_REQUESTS_PER_SECOND}/s in all:\n`,
  );
  console.log(table(rows));
}
