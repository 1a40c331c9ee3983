/**
 * End-to-end benchmark: the whole bot, started exactly as `deno task start` starts it (the
 * command is read from deno.json), beside the naive reference bot in `bench/naive_bot.ts`, each
 * against fresh fakes in this process: a fake Discord that checks every request against
 * Discord's OpenAPI spec, and a fake Gemini that answers at once. Paid-tier quota, every other
 * setting at its default.
 *
 * The load: 1000 channels, each 20 exchanges of about 300 Korean characters, every message
 * mentioning the bot. All channels talk at once; a channel's next message goes out once the
 * answer to its last one shows in full, so every window really fills. Each message comes from
 * its own user, so that SoyeBot's per-user rate limit (5 in 30 s) never refuses one.
 *
 * Measured per bot, over the load only: CPU (user + system of the whole process, workers
 * included) per message, messages per second, and RSS right after the last answer.
 *
 * Run: `deno run -P=bench bench/e2e.ts [--check]`. `BENCH_E2E_CHANNELS` and
 * `BENCH_E2E_EXCHANGES` shrink the load for a smoke run; `BENCH_E2E_PROFILE=1` runs SoyeBot alone
 * with V8's `--prof` and prints where the logs went, for `node --prof-process`;
 * `BENCH_E2E_V8_FLAGS` replaces the start task's V8 flags for SoyeBot (`""` for V8's defaults);
 * `BENCH_E2E_SOYEBOT_ONLY=1` leaves the naive bot out, for comparing SoyeBot's own settings.
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
import { type ProcessSample, sampleProcess } from "./proc_stats.ts";
import { sideBySide } from "./report.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const GUILD = "1300000000000000001";
/** Paid-tier quota, so that the broker never holds a message back for quota. */
export const PAID_TIER = {
  GEMINI_RPM: "1000000",
  GEMINI_TPM: "1000000000",
  GEMINI_RPD: "1000000000",
};
const GOALS = { rssMb: 150, cpuRatio: 2.0, throughputRatio: 1.0 };
/**
 * SoyeBot paces Discord REST at Discord's global limit by default (`DISCORD_REST_RATE`); the naive
 * bot ignores that limit. Raised for SoyeBot, so that both are measured on CPU, not on Discord's
 * budget (at 35/s, 20,000 answers need about 10 minutes of posts alone).
 */
const UNPACED = { DISCORD_REST_RATE: "100000" };
/** Longest wait for one answer before the run is called failed. */
const ANSWER_TIMEOUT_MS = 120_000;

/** The fake Gemini's one answer: an answer is complete when a message shows exactly this. */
const REPLY = koreanLine(99);

/** What the load did to one bot. */
export interface BotFigures {
  bot: string;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  cpuMsPerMessage: number;
  rssMb: number;
  peakRssMb: number;
  /** RSS once connected, before the load. */
  idleRssMb: number;
  geminiRequests: number;
  /** The most `contents` one Gemini request carried: 39 when 20 exchanges filled the window. */
  maxContents: number;
  discordRequestsPerMessage: number;
  invalidRequests: number;
  /** Posts and edits without `allowed_mentions.parse: []`: 0 for a bot that never pings. */
  unguardedSends: number;
  /** CPU this process (the fakes and the driver) spent per message, for context. */
  fakesCpuMsPerMessage: number;
}

/** How a bot is started. */
export interface BotCommand {
  label: string;
  args: string[];
  env?: Record<string, string>;
}

/**
 * SoyeBot's command, read from deno.json's start task so the two never drift apart. `v8Flags`
 * replaces the task's V8 flags, for experiments; `profileDir` adds V8's `--prof`.
 */
export async function soyeBotCommand(
  options: { v8Flags?: string; profileDir?: string; env?: Record<string, string> } = {},
): Promise<BotCommand> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const [deno, ...args] = (config.tasks.start as string).split(/\s+/);
  if (deno !== "deno") throw new Error(`unexpected start task: ${config.tasks.start}`);
  let flags = args.find((a) => a.startsWith("--v8-flags="))?.slice("--v8-flags=".length);
  const label = options.v8Flags === undefined ? "SoyeBot" : `SoyeBot, V8 '${options.v8Flags}'`;
  if (options.v8Flags !== undefined) flags = options.v8Flags;
  if (options.profileDir) {
    flags = [flags, `--prof,--logfile=${options.profileDir}/soyebot.log`].filter(Boolean).join(",");
  }
  const rest = args.filter((a) => !a.startsWith("--v8-flags="));
  const script = rest.pop()!;
  return {
    label: options.profileDir ? `${label} (--prof)` : label,
    args: [...rest, ...(flags ? [`--v8-flags=${flags}`] : []), script],
    env: options.env ?? UNPACED,
  };
}

/** The naive reference bot's command. */
export const NAIVE: BotCommand = {
  label: "naive",
  args: ["run", "-P=naive", "bench/naive_bot.ts"],
};

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts one bot on fresh fakes, waits until it is connected and quiet, runs the load. */
export async function measureBot(
  command: BotCommand,
  load: { channels: number; exchanges: number },
): Promise<BotFigures> {
  const discord = await FakeDiscord.start();
  const gemini = await FakeGemini.start({ apiKeys: [GEMINI_KEY], responder: () => REPLY });
  const dataDir = `data/bench-e2e-${crypto.randomUUID()}`;
  await Deno.mkdir(`${ROOT}${dataDir}`, { recursive: true });
  const bot = new BotChild(command.args, {
    cwd: ROOT,
    env: {
      ...fakesEnv(discord, gemini, dataDir),
      ...PAID_TIER,
      ...command.env,
    },
  });
  try {
    await bot.until(() => discord.identified > 0, "identify on the gateway", 60_000);
    // Let start-up work (command registration, the key check, the persona cache) finish.
    await delay(2_000);
    const { waitForAnswer, unguarded } = answerWatch(discord, {
      reply: REPLY,
      timeoutMs: ANSWER_TIMEOUT_MS,
    });
    const idle = await sampleProcess(bot.pid);
    const fakesBefore = await sampleProcess(Deno.pid);
    const requestsBefore = discord.requests.length;
    const started = performance.now();
    let user = 0;
    await Promise.all(Array.from({ length: load.channels }, async (_, c) => {
      const channelId = String(1400000000000000000n + BigInt(c));
      for (let e = 0; e < load.exchanges; e++) {
        const authorId = String(1500000000000000000n + BigInt(user++));
        const answered = waitForAnswer(channelId, `channel ${c}, exchange ${e}`);
        await discord.sendUserMessage({
          channelId,
          guildId: GUILD,
          authorId,
          username: `user${authorId.slice(-5)}`,
          content: koreanLine(c * load.exchanges + e),
          mentionsBot: true,
        });
        await answered;
      }
    }));
    const seconds = (performance.now() - started) / 1000;
    const after: ProcessSample = await sampleProcess(bot.pid);
    const fakesAfter = await sampleProcess(Deno.pid);
    const messages = load.channels * load.exchanges;
    const generates = gemini.requests.filter((r) => r.action.endsWith("enerateContent"));
    return {
      bot: command.label,
      messages,
      seconds,
      messagesPerSecond: messages / seconds,
      cpuMsPerMessage: (after.cpuMs - idle.cpuMs) / messages,
      rssMb: after.rssMb,
      peakRssMb: after.peakRssMb,
      idleRssMb: idle.rssMb,
      geminiRequests: generates.length,
      maxContents: Math.max(0, ...generates.map((r) => r.body?.contents?.length ?? 0)),
      discordRequestsPerMessage: (discord.requests.length - requestsBefore) / messages,
      invalidRequests: discord.invalidRequests.length,
      unguardedSends: unguarded(),
      fakesCpuMsPerMessage: (fakesAfter.cpuMs - fakesBefore.cpuMs) / messages,
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

/** Formats the bots side by side, with SoyeBot / naive ratios when both ran. */
export function table(rows: BotFigures[]): string {
  const lines: [string, (f: BotFigures) => number, number][] = [
    ["messages answered", (f) => f.messages, 0],
    ["wall time of the load (s)", (f) => f.seconds, 1],
    ["messages per second", (f) => f.messagesPerSecond, 1],
    ["CPU per message (ms, user+sys)", (f) => f.cpuMsPerMessage, 3],
    ["RSS after the load (MB)", (f) => f.rssMb, 1],
    ["peak RSS (MB, VmHWM)", (f) => f.peakRssMb, 1],
    ["RSS idle, before the load (MB)", (f) => f.idleRssMb, 1],
    ["Gemini generate requests", (f) => f.geminiRequests, 0],
    ["most contents in a request", (f) => f.maxContents, 0],
    ["Discord REST requests per message", (f) => f.discordRequestsPerMessage, 2],
    ["requests Discord would refuse", (f) => f.invalidRequests, 0],
    ["sends that could ping (no parse [])", (f) => f.unguardedSends, 0],
    ["fakes' CPU per message (ms)", (f) => f.fakesCpuMsPerMessage, 3],
  ];
  const ratioOf = rows.length === 2
    ? (value: (f: BotFigures) => number) =>
      value(rows[1]) === 0 ? "-" : (value(rows[0]) / value(rows[1])).toFixed(2)
    : undefined;
  const header = ["", ...rows.map((r) => r.bot), ...(ratioOf ? ["ratio"] : [])];
  const body = lines.map(([label, value, digits]) => [
    label,
    ...rows.map((r) => value(r).toFixed(digits)),
    ...(ratioOf ? [ratioOf(value)] : []),
  ]);
  return sideBySide(header, body);
}

/** The goals, each with its figure and whether it was met. */
export function goals(soye: BotFigures, naive: BotFigures): { text: string; met: boolean }[] {
  const cpu = soye.cpuMsPerMessage / naive.cpuMsPerMessage;
  const throughput = soye.messagesPerSecond / naive.messagesPerSecond;
  return [
    { text: `RSS ${soye.rssMb.toFixed(1)} MB ≤ ${GOALS.rssMb} MB`, met: soye.rssMb <= GOALS.rssMb },
    { text: `CPU per message ×${cpu.toFixed(2)} ≤ ×${GOALS.cpuRatio}`, met: cpu <= GOALS.cpuRatio },
    {
      text: `throughput ×${throughput.toFixed(2)} ≥ ×${GOALS.throughputRatio}`,
      met: throughput >= GOALS.throughputRatio,
    },
  ];
}

function positiveInt(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer: current value is ${raw}`);
  }
  return value;
}

if (import.meta.main) {
  const args = parseArgs({ args: Deno.args, options: { check: { type: "boolean" } } });
  const load = {
    channels: positiveInt("BENCH_E2E_CHANNELS", 1000),
    exchanges: positiveInt("BENCH_E2E_EXCHANGES", 20),
  };
  console.log(
    `## e2e: ${load.channels} channels × ${load.exchanges} exchanges of ~300 Korean characters, ` +
      `paid-tier quota, instant fake Gemini (Deno ${Deno.version.deno}, ` +
      `${navigator.hardwareConcurrency} CPUs, load average ${Deno.loadavg()[0].toFixed(2)}); ` +
      `SoyeBot with DISCORD_REST_RATE=${UNPACED.DISCORD_REST_RATE}, as the naive bot ignores ` +
      `Discord's REST limit\n`,
  );
  const v8Flags = Deno.env.get("BENCH_E2E_V8_FLAGS");
  if (Deno.env.get("BENCH_E2E_PROFILE")) {
    const dir = `${ROOT}data/bench-e2e-prof-${Date.now()}`;
    await Deno.mkdir(dir, { recursive: true });
    const soye = await measureBot(await soyeBotCommand({ v8Flags, profileDir: dir }), load);
    console.log(table([soye]));
    console.log(`\nV8 logs in ${dir}; read them with: node --prof-process <log>`);
  } else if (Deno.env.get("BENCH_E2E_SOYEBOT_ONLY")) {
    console.log(table([await measureBot(await soyeBotCommand({ v8Flags }), load)]));
  } else {
    const soye = await measureBot(await soyeBotCommand({ v8Flags }), load);
    const naive = await measureBot(NAIVE, load);
    console.log(table([soye, naive]));
    console.log("\nGoals, as deno task start runs (ratio = SoyeBot / naive):");
    const results = goals(soye, naive);
    for (const goal of results) console.log(`  ${goal.met ? "met   " : "MISSED"} ${goal.text}`);
    if (args.values.check && results.some((g) => !g.met)) Deno.exit(1);
  }
}
