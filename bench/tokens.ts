/**
 * Token bench: one channel's 100-turn conversation against the fake Gemini, through the real
 * GeminiBroker and SDK client, billed as the fake reports it (`promptTokenCount`,
 * `cachedContentTokenCount`, `candidatesTokenCount`, and `thoughtsTokenCount` unless the
 * thinking budget is 0). Compares a naive bot with SoyeBot's defaults.
 *
 * The fake counts tokens as ASCII/4 + other/1.5 (Korean runs near 1.5 characters a token), and
 * reports 200 thinking tokens when thinking is on: real dynamic thinking often spends more, so
 * the naive bot's cost here is a floor. Both bots use the same persona (lib/prompts.ts), so
 * persona compression is not credited to SoyeBot in these figures.
 *
 * Run: `deno run -P=bench bench/tokens.ts`
 *
 * @module
 */
import { GeminiBroker, type Prices } from "../actors/gemini_broker.ts";
import { SdkGeminiClient } from "../lib/gemini.ts";
import { HistoryWindow } from "../lib/history_window.ts";
import { PERSONA } from "../lib/prompts.ts";
import { MemoryTokenPool } from "../lib/token_pool.ts";
import { FakeGemini } from "../tests/fakes/fake_gemini.ts";

const TURNS = 100;
const KEY = "bench-key";
/** gemini-2.5-flash list prices, USD per million tokens (lib/config.ts defaults). */
const PRICES: Prices = { input: 0.3, output: 2.5, cached: 0.03 };

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

interface Bot {
  label: string;
  /** Exchanges of history sent; undefined sends all of it. */
  window: number | undefined;
  cache: boolean;
  thinkingBudget: number;
}

async function converse(bot: Bot) {
  const fake = await FakeGemini.start({ apiKeys: [KEY] });
  const events: string[] = [];
  const broker = new GeminiBroker({
    client: new SdkGeminiClient({ baseUrl: fake.url }),
    pool: new MemoryTokenPool([KEY], { rpm: 100_000, tpm: 1e9, rpd: 100_000 }),
    model: "gemini-2.5-flash",
    systemInstruction: PERSONA,
    contextCache: bot.cache,
    thinkingBudget: bot.thinkingBudget,
    prices: PRICES,
    onEvent: (e) => {
      if (e.type === "cache_fallback") events.push(`cache refused: ${e.why}`);
      if (e.type === "cache_created") events.push(`cache created: ${e.tokens} tokens`);
    },
  });
  const history = new HistoryWindow([], { maxExchanges: bot.window ?? 1_000_000 });
  if (bot.cache) await broker.verifyKeys();
  for (let turn = 0; turn < TURNS; turn++) {
    const line = `민수: ${TOPICS[turn % TOPICS.length]} (${turn + 1})`;
    const result = await broker.generate({ priority: "chat", contents: history.toContents(line) });
    if (!result.ok) throw new Error(`turn ${turn + 1} failed: ${result.reason}`);
    history.add({ user: line, model: result.text, at: Date.now() });
  }
  await broker.stop();
  await fake.close();
  const s = broker.stats;
  const perAnswer = (n: number) => n / TURNS;
  const billedIn = s.tokensIn - s.tokensCached;
  const billed = s.tokensIn + s.tokensOut + s.tokensThinking;
  console.log(`\n## ${bot.label}`);
  for (const event of events) console.log(`(${event})`);
  if (s.personaTokens !== undefined) console.log(`persona: ${s.personaTokens} tokens`);
  console.log(
    `per answer: input ${perAnswer(billedIn).toFixed(0)} + cached ${
      perAnswer(s.tokensCached).toFixed(0)
    } + output ${perAnswer(s.tokensOut).toFixed(0)} + thinking ${
      perAnswer(s.tokensThinking).toFixed(0)
    } = ${perAnswer(billed).toFixed(0)} tokens billed`,
  );
  const per1000 = s.costUsd / TURNS * 1000;
  console.log(`estimated cost: $${per1000.toFixed(4)} per 1,000 answers`);
  return { per1000, tokens: perAnswer(billed) };
}

console.log("# bench/tokens.ts");
console.log(
  `${TURNS}-turn conversation in one channel; prices USD/M tokens: input ${PRICES.input}, ` +
    `output (and thinking) ${PRICES.output}, cached ${PRICES.cached}`,
);
const naive = await converse({
  label: "(a) naive: full history, no cache, thinking on",
  window: undefined,
  cache: false,
  thinkingBudget: -1, // dynamic: the model thinks as it likes, as with no thinking config
});
const soye = await converse({
  label: "(b) SoyeBot defaults: 20-exchange window, persona cache attempt, thinking 0",
  window: 20,
  cache: true,
  thinkingBudget: 0,
});
console.log(
  `\nSoyeBot bills ${
    (100 * (1 - soye.tokens / naive.tokens)).toFixed(1)
  }% fewer tokens and costs ` +
    `${(100 * (1 - soye.per1000 / naive.per1000)).toFixed(1)}% less per answer ` +
    `(ratio ${(soye.per1000 / naive.per1000).toFixed(3)}; the seed claimed a 65–75% cut)`,
);
