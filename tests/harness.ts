/**
 * Test harness: the real bot, started as `deno task start` starts it (`deno run -P=bot main.ts`),
 * against the fake Discord and the fake Gemini on loopback.
 *
 * @module
 */
import { FakeDiscord, type FakeDiscordOptions } from "./fakes/fake_discord.ts";
import {
  FakeGemini,
  type FakeGeminiOptions,
  type RecordedRequest as GeminiRequest,
} from "./fakes/fake_gemini.ts";

/** The repository root, where `deno.json` and `main.ts` are. */
export const ROOT = new URL("../", import.meta.url).pathname;

/** The API key the fake Gemini accepts by default. */
// A key of the kind Google issues since September 2026 (`AQ.`), as every end-to-end test uses.
export const GEMINI_KEY = "AQ.Ab8RN6test-key-0123456789";

/** A bot process and what it printed. */
export class BotProcess {
  readonly child: Deno.ChildProcess;
  #output = "";
  #waiters: { pattern: RegExp; resolve: () => void }[] = [];
  readonly exited: Promise<Deno.CommandStatus>;
  #pumps: Promise<void>;

  #echo: boolean;

  constructor(env: Record<string, string>, options: { echo?: boolean } = {}) {
    this.#echo = options.echo ?? false;
    this.child = new Deno.Command(Deno.execPath(), {
      // The same command as `deno task start`.
      args: ["run", "-P=bot", "--v8-flags=--max-semi-space-size=1,--optimize-for-size", "main.ts"],
      cwd: ROOT,
      env: { NO_COLOR: "1", ...env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#pumps = Promise.all([this.#pump(this.child.stdout), this.#pump(this.child.stderr)]).then(
      () => {},
    );
    this.exited = this.child.status.then(async (status) => {
      await this.#pumps;
      return status;
    });
  }

  /** Everything the process wrote to stdout and stderr so far. */
  get output(): string {
    return this.#output;
  }

  /** Resolves when the output matches `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs = HANG_GUARD_MS): Promise<void> {
    if (pattern.test(this.#output)) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(() => {
      reject(new Error(`bot output never matched ${pattern}; it printed:\n${this.#output}`));
    }, timeoutMs);
    this.#waiters.push({
      pattern,
      resolve: () => {
        clearTimeout(timer);
        resolve();
      },
    });
    return promise;
  }

  /** Sends a signal and waits for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.child.kill(signal);
    } catch {
      // already exited
    }
    return await this.exited;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      this.#output += text;
      if (this.#echo) Deno.stderr.writeSync(new TextEncoder().encode(text));
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pattern.test(this.#output)) return true;
        w.resolve();
        return false;
      });
    }
  }
}

/** The fakes, a data directory, and the bot processes started on them. */
export class World {
  readonly discord: FakeDiscord;
  readonly gemini: FakeGemini;
  readonly dataDir: string;
  #bots: BotProcess[] = [];

  private constructor(discord: FakeDiscord, gemini: FakeGemini, dataDir: string) {
    this.discord = discord;
    this.gemini = gemini;
    this.dataDir = dataDir;
  }

  /** Starts both fakes and makes a fresh data directory under `./data`. */
  static async create(
    options: { discord?: FakeDiscordOptions; gemini?: FakeGeminiOptions; dataDir?: string } = {},
  ): Promise<World> {
    const discord = await FakeDiscord.start(options.discord);
    const gemini = await FakeGemini.start({ apiKeys: [GEMINI_KEY], ...options.gemini });
    const dataDir = options.dataDir ?? `data/test-${crypto.randomUUID()}`;
    await Deno.mkdir(`${ROOT}${dataDir}`, { recursive: true });
    return new World(discord, gemini, dataDir);
  }

  /** The environment a bot needs to run against these fakes. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...fakesEnv(this.discord, this.gemini, this.dataDir),
      LOG_LEVEL: "info",
      // The free-tier defaults (20 requests a day) would end a test's conversation partway;
      // a test about quota sets its own.
      GEMINI_RPM: "1000",
      GEMINI_RPD: "100000",
      ...extra,
    };
  }

  /** Starts the bot and waits until it has identified on the gateway. */
  async startBot(
    extra: Record<string, string> = {},
    options: { echo?: boolean } = {},
  ): Promise<BotProcess> {
    const identifiedBefore = this.discord.identified;
    const bot = new BotProcess(this.env(extra), options);
    this.#bots.push(bot);
    const deadline = Date.now() + HANG_GUARD_MS;
    while (this.discord.identified === identifiedBefore) {
      if (Date.now() > deadline) {
        throw new Error(`bot never identified; it printed:\n${bot.output}`);
      }
      const status = await Promise.race([bot.exited, delay(20).then(() => undefined)]);
      if (status) throw new Error(`bot exited with ${status.code}:\n${bot.output}`);
    }
    await this.discord.waitForReady(HANG_GUARD_MS);
    return bot;
  }

  /** Posts `content` in `channelId` of `guildId` as a person (민수 unless named) mentioning the bot. */
  mention(channelId: string, guildId: string, content: string, username = "민수") {
    return this.discord.sendUserMessage({
      channelId,
      guildId,
      content,
      mentionsBot: true,
      username,
    });
  }

  /** The text of the bot's messages in a channel, oldest first, deleted ones left out. */
  botMessages(channelId: string): string[] {
    return this.discord.messagesIn(channelId).filter((m) => m.author.bot && !m.deleted).map((m) =>
      m.content
    );
  }

  /** The generate requests (plain or streamed) the fake Gemini received, in order. */
  generateRequests(): GeminiRequest[] {
    return this.gemini.requests.filter((r) =>
      r.action === "generateContent" || r.action === "streamGenerateContent"
    );
  }

  /** Stops every bot, closes the fakes, removes the data directory unless `keepData`. */
  async close(options: { keepData?: boolean } = {}): Promise<void> {
    for (const bot of this.#bots) await bot.stop("SIGKILL");
    await this.discord.close();
    await this.gemini.close();
    if (!options.keepData) {
      await Deno.remove(`${ROOT}${this.dataDir}`, { recursive: true }).catch(() => {});
    }
  }
}

/** The variables that point a bot at these fakes and keep its data in `dataDir`. */
export function fakesEnv(
  discord: Pick<FakeDiscord, "token" | "url">,
  gemini: Pick<FakeGemini, "url">,
  dataDir: string,
): Record<string, string> {
  return {
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.url,
    GEMINI_API_KEY: GEMINI_KEY,
    GEMINI_API_URL: gemini.url,
    DATA_DIR: dataDir,
  };
}

/** Waits `ms` without leaving a timer behind. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * How long a wait for an event gives up after when the test names no deadline: a guard against
 * a test hanging, not a measure of speed. Two suites at once on a loaded 2-core machine take
 * several times as long for the same step, so a wait that is not about time must not fail on it.
 */
export const HANG_GUARD_MS = 60_000;

/** Polls `condition` until it holds; throws after `timeoutMs` (a deadline only where one is the point). */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = HANG_GUARD_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** A Gemini request's `contents` as [role, text] pairs, each turn's parts joined. */
export function turns(request: GeminiRequest): [string, string][] {
  const contents = request.body.contents as { role: string; parts: { text: string }[] }[];
  return contents.map((c) => [c.role, c.parts.map((p) => p.text).join("")]);
}
