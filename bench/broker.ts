/**
 * Broker bench: a burst of 500 chat requests from 200 channels through the real GeminiBroker,
 * SdkGeminiClient (the real SDK over loopback) and MemoryTokenPool, against the fake Gemini
 * enforcing a quota.
 *
 * Time is scaled, honestly and everywhere at once: the fake Gemini's quota clock, the pool's and
 * the broker's clock all run `SCALE` times faster than the wall clock, and every broker timer
 * fires after `ms / SCALE` real ms. So a "minute" of quota passes in 60 / SCALE real seconds and
 * the whole 8-minute burst fits in under a minute. Network latency is real (loopback), so in
 * simulated time it is SCALE times longer than it was: that makes the clock-skew margin work
 * harder than it would in production, not easier.
 *
 * Run: `deno run -P=bench bench/broker.ts`
 *
 * @module
 */
import { GeminiBroker } from "../actors/gemini_broker.ts";
import type { Clock } from "../lib/clock.ts";
import {
  type Content,
  type GeminiClient,
  type GenerateRequest,
  type GenerateResult,
  SdkGeminiClient,
} from "../lib/gemini/client.ts";
import { percentile } from "../lib/percentiles.ts";
import { PERSONA } from "../lib/text/prompts.ts";
import { MemoryTokenPool } from "../lib/quota/token_pool.ts";
import { FakeGemini } from "../tests/fakes/fake_gemini.ts";

const SCALE = 20;
const REQUESTS = 500;
const CHANNELS = 200;
const KEY = "bench-key";
const MINUTE = 60_000;

/** A clock running `scale` times faster than the wall clock. */
function scaledClock(scale: number): Clock {
  const origin = Date.now();
  return {
    now: () => origin + (Date.now() - origin) * scale,
    setTimeout: (callback, ms) => setTimeout(callback, Math.max(0, ms) / scale),
    clearTimeout: (id) => clearTimeout(id),
  };
}

/** A small deterministic random source, so every run sends the same prompts. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const LINES = [
  "오늘 방송 몇 시에 켜?",
  "어제 그 게임 보스 결국 깼어?",
  "숙제 다 했냐 ㅋㅋ",
  "점심 뭐 먹었어",
  "요즘 뭐 보고 있어? 추천 좀",
  "그 노래 제목이 뭐였지",
];

/** Each channel's history: 0 to 8 exchanges of short Korean chat, then the new message. */
function channelContents(random: () => number): Content[][] {
  return Array.from({ length: CHANNELS }, (_, c) => {
    const contents: Content[] = [];
    const exchanges = Math.floor(random() * 9);
    for (let i = 0; i < exchanges; i++) {
      contents.push({ role: "user", parts: [{ text: `유저${c}: ${LINES[(c + i) % 6]}` }] });
      contents.push({
        role: "model",
        parts: [{ text: "ㅇㅇ 그거 나도 궁금했어. 나중에 알려줄게." }],
      });
    }
    contents.push({ role: "user", parts: [{ text: `유저${c}: ${LINES[c % 6]}` }] });
    return contents;
  });
}

interface Run {
  label: string;
  serverRpm: number;
  configuredRpm: number;
  requests: number;
}

async function run({ label, serverRpm, configuredRpm, requests }: Run) {
  const clock = scaledClock(SCALE);
  const fake = await FakeGemini.start({
    apiKeys: [KEY],
    quota: { rpm: serverRpm, tpm: 100_000 },
    now: clock.now,
    chunks: 2,
  });
  const pool = new MemoryTokenPool([KEY], { rpm: configuredRpm, tpm: 100_000, rpd: 100_000 });
  const starts: number[] = [];
  const rejectedAt: number[] = [];
  const sdk = new SdkGeminiClient({ baseUrl: fake.url });
  const client: GeminiClient = {
    generate: (request) => {
      starts.push(clock.now());
      return sdk.generate(request).catch((error) => {
        if (error?.status === 429) rejectedAt.push(clock.now());
        throw error;
      });
    },
    cacheSystemInstruction: (r) => sdk.cacheSystemInstruction(r),
    countTokens: (r) => sdk.countTokens(r),
  };
  const broker = new GeminiBroker({
    client,
    pool,
    model: "gemini-3.5-flash-lite",
    systemInstruction: PERSONA,
    clock,
    // The bench measures the pool under a backlog of minutes, not the bound on a user's wait.
    maxWaitMs: Infinity,
  });
  const channels = channelContents(seeded(42));
  const began = clock.now();
  const wallBegan = performance.now();
  const results = await Promise.all(
    Array.from(
      { length: requests },
      (_, i) => broker.generate({ priority: "chat", contents: channels[i % CHANNELS] }),
    ),
  );
  const wallMs = performance.now() - wallBegan;
  const effective = pool.status(clock.now())[0].effective.rpm;
  const waits = broker.queueWait.percentiles(clock.now(), [50, 99]);
  await broker.stop();
  await fake.close();

  // Utilisation: requests the server accepted during the whole minutes of the busy period.
  const accepted = fake.requests.filter((r) =>
    r.action === "streamGenerateContent" && r.status === 200
  )
    .map((r) => r.at).sort((a, b) => a - b);
  const minutes = Math.max(1, Math.floor((accepted.at(-1)! - accepted[0]) / MINUTE));
  const inWholeMinutes = accepted.filter((at) => at < accepted[0] + minutes * MINUTE).length;
  let busiestMinute = 0;
  for (let i = 0, j = 0; i < accepted.length; i++) {
    while (accepted[i] - accepted[j] >= MINUTE) j++;
    busiestMinute = Math.max(busiestMinute, i - j + 1);
  }
  const ok = results.filter((r) => r.ok).length;
  const limit = Math.min(serverRpm, configuredRpm);
  console.log(`\n## ${label}`);
  console.log(
    `server quota ${serverRpm} RPM / 100k TPM, bot configured GEMINI_RPM=${configuredRpm}; ` +
      `${requests} requests from ${CHANNELS} channels at once, time x${SCALE} ` +
      `(${(wallMs / 1000).toFixed(1)} s real = ${
        (wallMs * SCALE / MINUTE).toFixed(1)
      } min simulated)`,
  );
  console.log(`answered ${ok}/${requests}; Gemini calls ${broker.stats.calls}`);
  console.log(
    `utilisation: ${inWholeMinutes} accepted in the first ${minutes} whole minutes = ` +
      `${(inWholeMinutes / minutes).toFixed(1)} RPM = ` +
      `${(100 * inWholeMinutes / minutes / limit).toFixed(1)}% of the ${limit} RPM limit ` +
      `(busiest sliding minute: ${busiestMinute})`,
  );
  const inFirstMinute = rejectedAt.filter((at) => at - began < MINUTE).length;
  console.log(
    `429s taken: ${rejectedAt.length}` +
      (rejectedAt.length === 0 ? "" : `: ${inFirstMinute} in the first simulated minute, ` +
        `the last at ${((rejectedAt.at(-1)! - began) / 1000).toFixed(1)} s; limit learned: ` +
        `${effective} RPM (held for 10 minutes, then probed upwards 5% a minute)`),
  );
  console.log(
    `queue wait (simulated): p50 ${(waits.p50 / 1000).toFixed(1)} s, p99 ${
      (waits.p99 / 1000).toFixed(1)
    } s`,
  );
  return { ok, rejected: rejectedAt.length };
}

/** A client that answers at once, to time the broker alone. */
class InstantClient implements GeminiClient {
  generate(request: GenerateRequest): Promise<GenerateResult> {
    request.onText?.("응.");
    return Promise.resolve({
      text: "응.",
      finishReason: "STOP",
      usage: { promptTokens: 100, cachedTokens: 0, outputTokens: 2, thinkingTokens: 0 },
    });
  }
  cacheSystemInstruction(): Promise<never> {
    return Promise.reject(Object.assign(new Error("too small"), { status: 400 }));
  }
  countTokens(): Promise<number> {
    return Promise.resolve(700);
  }
}

async function overhead() {
  const pool = new MemoryTokenPool(["k"], { rpm: 1e9, tpm: 1e12, rpd: 1e9 });
  const broker = new GeminiBroker({
    client: new InstantClient(),
    pool,
    model: "m",
    systemInstruction: PERSONA,
  });
  const channels = channelContents(seeded(7));
  const samples: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const t = performance.now();
    await broker.generate({ priority: "chat", contents: channels[i % CHANNELS] });
    samples.push(performance.now() - t);
  }
  const burstBegan = performance.now();
  await Promise.all(
    Array.from(
      { length: 500 },
      (_, i) => broker.generate({ priority: "chat", contents: channels[i % CHANNELS] }),
    ),
  );
  const burstMs = performance.now() - burstBegan;
  await broker.stop();
  const warm = samples.slice(500);
  console.log("\n## Broker overhead per call, excluding Gemini (a client that answers at once)");
  console.log(
    `one at a time (2,500 calls after 500 warm-up): p50 ${
      (percentile(warm, 50) * 1000).toFixed(0)
    } µs, ` +
      `p99 ${(percentile(warm, 99) * 1000).toFixed(0)} µs`,
  );
  console.log(
    `a burst of 500 queued at once, 10 at a time: ${(burstMs * 1000 / 500).toFixed(0)} µs a call`,
  );
}

console.log("# bench/broker.ts");
const right = await run({
  label: "Configured right: GEMINI_RPM equals the server's limit",
  serverRpm: 60,
  configuredRpm: 60,
  requests: REQUESTS,
});
const wrong = await run({
  label: "Configured too high: the server allows 40 RPM, the bot is told 60",
  serverRpm: 40,
  configuredRpm: 60,
  requests: 300,
});
await overhead();
console.log(
  `\nsummary: configured right → ${right.rejected} 429s; configured 60 vs server 40 → ` +
    `${wrong.rejected} 429s while it learned the real limit`,
);
