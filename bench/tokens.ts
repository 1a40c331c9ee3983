/**
 * Token bench: what an answer costs, for a naive bot, SoyeBot as it was (a window sliding by one
 * exchange) and SoyeBot now (a window dropping blocks, with a running memory), against the fake
 * Gemini through the real GeminiBroker and SDK client, billed as the fake reports it
 * (`promptTokenCount`, `cachedContentTokenCount`, `candidatesTokenCount`, `thoughtsTokenCount`).
 *
 * Two conversations: one channel of 100 turns, and 20 channels of 100 turns interleaved
 * round-robin, on the default model (`BENCH_TOKENS_MODEL` names another). Each runs with the
 * fake's implicit cache on and off; the fake follows the model's minimum (a repeated prefix of at
 * least 4,096 tokens on 3.5–3.8 Flash, billed at the cached price; none on 3.x Flash-Lite, where
 * Google lists no minimum and users saw no hits, so on the default model both runs are the same
 * and the cache is not counted on). SoyeBot now
 * folds the block that leaves its window into the memory with one broker call at the "summary"
 * priority; those calls' tokens are billed to its answers.
 *
 * Assumptions, all visible below: the fake counts tokens as ASCII/4 + other/1.5 and reports
 * thinking by level (none at `minimal`, Flash-Lite's default; 200 at `medium`, 3.5–3.8 Flash's
 * default); every bot leaves the chat's level to the model, as a naive bot does, and SoyeBot's
 * folds take the lowest level the model takes; a turn comes every 20 s in the one
 * channel, and every 5 s over the 20 channels (each channel speaks every 100 s), inside the fake's
 * 5-minute implicit-cache life; each fold lands before the channel's next turn. The fake answers
 * a fold as a model that obeys the instruction would: the old memory's lines plus one line per
 * two folded exchanges, oldest lines dropped past 400 characters, so the memory soon sits at its
 * cap (~270 tokens) and every fold writes all of it.
 *
 * Run: `deno run -P=bench bench/tokens.ts`
 *
 * @module
 */
import { GeminiBroker } from "../actors/gemini_broker.ts";
import { DEFAULT_WINDOW_DROP_BLOCK } from "../lib/config/config.ts";
import { SdkGeminiClient } from "../lib/gemini/client.ts";
import { DEFAULT_MODEL, modelFacts, type ThinkingLevel } from "../lib/gemini/model_facts.ts";
import { HistoryWindow, MAX_EXCHANGES } from "../lib/sessions/window.ts";
import { cleanMemory, foldRequest, MEMORY_MAX_CHARS } from "../lib/sessions/memory_fold.ts";
import { FOLD_INSTRUCTION, PERSONA } from "../lib/text/prompts.ts";
import { MemoryTokenPool } from "../lib/quota/token_pool.ts";
import { FakeGemini, type GenerateRequest } from "../tests/fakes/fake_gemini.ts";

const TURNS = 100;
const CHANNELS = 20;
const KEY = "bench-key";
/** The model measured: the bot's default unless `BENCH_TOKENS_MODEL` says otherwise. */
const MODEL = Deno.env.get("BENCH_TOKENS_MODEL") ?? DEFAULT_MODEL;
/** The model's list prices, USD per million tokens, from the model table: the bot's defaults. */
const PRICES = modelFacts(MODEL).prices;
const ONE_CHANNEL_GAP_MS = 20_000;
const MANY_CHANNELS_GAP_MS = 5_000;

const TOPICS = [
  "오늘 방송 몇 시에 켜? 어제는 왜 안 켰어",
  "그 게임 새 시즌 나왔던데 해봤어?",
  "숙제 너무 많아서 죽겠다 진짜",
  "점심에 떡볶이 먹었는데 너무 매웠어",
  "요즘 듣는 노래 있으면 하나만 추천해줘",
  "주말에 뭐 할 거야? 나는 그냥 집에 있을 듯",
  "시험 기간인데 공부가 하나도 안 돼",
  "어제 본 영화 결말 완전 반전이더라",
];
const NAMES = ["민수", "지수", "현우", "서연"];

interface Bot {
  label: string;
  /** Exchanges of history sent; undefined sends all of it. */
  window: number | undefined;
  /** Exchanges that leave a full window at once. */
  dropBlock: number;
  /** Folds what leaves the window into a running memory. */
  memory: boolean;
  /** Attempts the explicit persona cache (skipped: the persona is under the model's minimum). */
  contextCache: boolean;
  /** The chat's thinking level; undefined leaves the model's own default. */
  thinkingLevel?: ThinkingLevel;
}

const BOTS: readonly Bot[] = [
  {
    label: "naive: full history, the model's own thinking",
    window: undefined,
    dropBlock: 1,
    memory: false,
    contextCache: false,
  },
  {
    label: `SoyeBot before: ${MAX_EXCHANGES}-exchange window sliding by 1, no memory`,
    window: MAX_EXCHANGES,
    dropBlock: 1,
    memory: false,
    contextCache: true,
  },
  {
    label: `SoyeBot now: window dropping ${DEFAULT_WINDOW_DROP_BLOCK} at once, running memory`,
    window: MAX_EXCHANGES,
    dropBlock: DEFAULT_WINDOW_DROP_BLOCK,
    memory: true,
    contextCache: true,
  },
];

/** A fold as a model following FOLD_INSTRUCTION would write it (see the module doc). */
function foldAnswer(request: GenerateRequest): string {
  const text = request.lastUserText;
  const [oldPart, newPart] = text.split("\n\n[밀려난 대화]\n");
  const old = oldPart.split("\n").slice(1).filter((l) => l.startsWith("- "));
  const users = newPart.split("\n").filter((l) => !l.startsWith("봇: "));
  const added: string[] = [];
  for (let i = 0; i < users.length; i += 2) {
    added.push(`- ${users[i].replace(/ \(\d+\)$/, "")}라고 함`);
  }
  const lines = [...old, ...added];
  while (lines.join("\n").length > MEMORY_MAX_CHARS) lines.shift();
  return lines.join("\n");
}

interface Totals {
  answers: number;
  folds: number;
  /** What the folds cost, in USD: part of `costUsd`. */
  foldUsd: number;
  billedIn: number;
  cached: number;
  out: number;
  thinking: number;
  costUsd: number;
}

async function converse(bot: Bot, channels: number, implicitCache: boolean): Promise<Totals> {
  let now = Date.UTC(2026, 0, 5, 12);
  const fake = await FakeGemini.start({
    apiKeys: [KEY],
    implicitCache,
    now: () => now,
    responder: (req) => {
      const instruction = req.systemInstruction?.parts?.[0]?.text;
      if (instruction === FOLD_INSTRUCTION) return foldAnswer(req);
      return `응, "${req.lastUserText}" 말이지.`;
    },
  });
  const broker = new GeminiBroker({
    client: new SdkGeminiClient({ baseUrl: fake.url }),
    pool: new MemoryTokenPool([KEY], { rpm: 100_000, tpm: 1e9, rpd: 100_000 }),
    model: MODEL,
    systemInstruction: PERSONA,
    contextCache: bot.contextCache,
    thinkingLevel: bot.thinkingLevel,
    prices: PRICES,
  });
  if (bot.contextCache) await broker.verifyKeys();
  const windows = Array.from({ length: channels }, () =>
    new HistoryWindow([], {
      maxExchanges: bot.window ?? 1_000_000,
      dropBlock: bot.dropBlock,
      maxPending: bot.memory ? undefined : 0,
    }));
  let folds = 0;
  let foldUsd = 0;
  const gap = channels === 1 ? ONE_CHANNEL_GAP_MS : MANY_CHANNELS_GAP_MS;
  for (let turn = 0; turn < TURNS; turn++) {
    for (let c = 0; c < channels; c++) {
      now += gap;
      const window = windows[c];
      // Each channel has its own people, so no two channels' prompts repeat one another.
      const name = `${NAMES[turn % NAMES.length]}${channels === 1 ? "" : c + 1}`;
      const line = `${name}: ${TOPICS[(turn + c) % TOPICS.length]} (${turn + 1})`;
      const result = await broker.generate({ priority: "chat", contents: window.toContents(line) });
      if (!result.ok) throw new Error(`turn ${turn + 1} failed: ${result.reason}`);
      // As the bot keeps it: the answer's parts, signatures included, go back in later turns.
      window.add({
        user: line,
        model: result.text,
        at: now,
        ...(result.parts ? { modelParts: result.parts } : {}),
      });
      if (!bot.memory || window.pending.length === 0) continue;
      // As the live bot would: fold what left, at the low priority, before the channel speaks again.
      const folding = window.pending;
      const before = broker.stats.costUsd;
      const fold = await broker.generate(foldRequest(window.memory, folding));
      foldUsd += broker.stats.costUsd - before;
      folds++;
      const memory = fold.ok ? cleanMemory(fold.text) : undefined;
      if (memory !== undefined) window.commitFold(memory, folding);
    }
  }
  await broker.stop();
  await fake.close();
  const s = broker.stats;
  return {
    answers: TURNS * channels,
    folds,
    foldUsd,
    billedIn: s.tokensIn - s.tokensCached,
    cached: s.tokensCached,
    out: s.tokensOut,
    thinking: s.tokensThinking,
    costUsd: s.costUsd,
  };
}

const per = (n: number, t: Totals) => Math.round(n / t.answers).toLocaleString("en-US");
const per1000 = (t: Totals) => t.costUsd / t.answers * 1000;

console.log(`# bench/tokens.ts (model ${MODEL})`);
console.log(
  `prices USD/M tokens: input ${PRICES.input}, output (and thinking) ${PRICES.output}, ` +
    `cached ${PRICES.cached}; per answer, fold calls included`,
);
/** Cost per 1,000 answers, by conversation, cache setting and bot label. */
const costs = new Map<string, number>();
const key = (channels: number, cache: boolean, bot: Bot) => `${channels}/${cache}/${bot.label}`;
for (const channels of [1, CHANNELS]) {
  for (const implicitCache of [true, false]) {
    const title = `${channels === 1 ? "one channel" : `${channels} channels interleaved`}, ` +
      `${TURNS} turns each, implicit cache ${implicitCache ? "on" : "off"}`;
    console.log(`\n## ${title}\n`);
    console.log(
      "| bot | billed input | cached | output | thinking | cost / 1,000 answers | vs naive |",
    );
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let naive: Totals | undefined;
    for (const bot of BOTS) {
      const t = await converse(bot, channels, implicitCache);
      naive ??= t;
      costs.set(key(channels, implicitCache, bot), per1000(t));
      const ratio = per1000(t) / per1000(naive);
      const folds = t.folds
        ? ` (${t.folds} folds: $${(t.foldUsd / t.answers * 1000).toFixed(4)} of the cost)`
        : "";
      console.log(
        `| ${bot.label}${folds} | ${per(t.billedIn, t)} | ${per(t.cached, t)} | ${
          per(t.out, t)
        } | ${per(t.thinking, t)} | $${per1000(t).toFixed(4)} | ${ratio.toFixed(3)} (${
          (100 * (1 - ratio)).toFixed(1)
        }% cheaper) |`,
      );
    }
  }
}

const [naiveBot, beforeBot, nowBot] = BOTS;
console.log("\n## goals (one channel; 20 channels in brackets)\n");
const both = (f: (channels: number) => number) =>
  `${(100 * f(1)).toFixed(1)}% [${(100 * f(CHANNELS)).toFixed(1)}%]`;
const cost = (channels: number, cache: boolean, bot: Bot) => costs.get(key(channels, cache, bot))!;
console.log(
  `- cheaper than the naive bot, both with the implicit cache (goal ≥ 80%): ${
    both((c) => 1 - cost(c, true, nowBot) / cost(c, true, naiveBot))
  }`,
);
console.log(
  `- cheaper than a naive bot that gets no cache hits, as the old figure measured: ${
    both((c) => 1 - cost(c, true, nowBot) / cost(c, false, naiveBot))
  }`,
);
console.log(
  `- cost with the cache off, against SoyeBot before (goal ≤ 100%): ${
    both((c) => cost(c, false, nowBot) / cost(c, false, beforeBot))
  }`,
);
