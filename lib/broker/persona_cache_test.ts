import assert from "node:assert/strict";
import { brokerSettings } from "./options.ts";
import { emptyBrokerStats } from "./stats.ts";
import { ManualClock } from "../clock.ts";
import type { BrokerEvent } from "./port.ts";
import type { CachedPrompt } from "../gemini/port.ts";
import { CACHE_REFRESH_MARGIN_MS, CACHE_RETRY_MS, PersonaCache } from "./persona_cache.ts";

const HOUR = 3_600_000;

/** A cache whose client answers each create with the next of `answers`. */
function setup(answers: (() => Promise<CachedPrompt>)[], model = "gemini-3.8-flash") {
  const clock = new ManualClock(0);
  const stats = emptyBrokerStats();
  const events: BrokerEvent[] = [];
  let creates = 0;
  const cache = new PersonaCache({
    client: {
      generate: () => Promise.reject(new Error("unused")),
      countTokens: () => Promise.resolve(0),
      cacheSystemInstruction: () => answers[creates++](),
    },
    model,
    systemInstruction: "persona",
    clock,
    settings: brokerSettings({ model }),
    stats,
    onEvent: (event) => events.push(event),
  });
  return { cache, clock, stats, events, creates: () => creates };
}

const made = (name: string) => () =>
  Promise.resolve({ name, expiresAt: Date.now() + HOUR, tokens: 5000 });
const refused = (status: number, message: string) => () =>
  Promise.reject(Object.assign(new Error(message), { status }));
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("a cache is made in the background, serves its name, and is refreshed before it ends", async () => {
  const { cache, clock, stats, events, creates } = setup([made("c/1"), made("c/2")]);
  assert.equal(cache.nameFor("key1", "k", 0), undefined, "not until it is made");
  await settle();
  assert.equal(cache.nameFor("key1", "k", 0), "c/1");
  assert.equal(stats.cachesLive, 1);
  assert.equal(stats.personaTokens, 5000);
  assert.deepEqual(events, [{ type: "cache_created", keyId: "key1", tokens: 5000 }]);
  assert.equal(creates(), 1, "fresh: not asked again");
  await clock.tick(HOUR - CACHE_REFRESH_MARGIN_MS + 1);
  assert.equal(cache.nameFor("key1", "k", clock.now()), "c/1", "the old one serves meanwhile");
  await settle();
  assert.equal(cache.nameFor("key1", "k", clock.now()), "c/2");
  assert.equal(creates(), 2);
  assert.equal(stats.cachesLive, 1, "a refresh is not a second live cache");
});

Deno.test("too small is refused for good and logged once; a passing failure is tried again later", async () => {
  const { cache, clock, events, creates } = setup([
    refused(400, "Cached content is too small. total_token_count=300, min_total_token_count=1024"),
    refused(503, "overloaded"),
    made("c/3"),
  ]);
  cache.start("key1", "k", 0);
  await settle();
  cache.start("key1", "k", 10 * HOUR);
  assert.equal(creates(), 1, "refused: never asked again");
  cache.start("key2", "k2", 0);
  await settle();
  assert.equal(events.filter((e) => e.type === "cache_fallback").length, 1);
  cache.start("key2", "k2", CACHE_RETRY_MS - 1);
  assert.equal(creates(), 2, "failed lately: not yet");
  await clock.tick(CACHE_RETRY_MS);
  assert.equal(cache.nameFor("key2", "k2", clock.now()), undefined);
  await settle();
  assert.equal(cache.nameFor("key2", "k2", clock.now()), "c/3");
});

Deno.test("a dropped cache is forgotten (or refused), and a stopped cache makes no more", async () => {
  const { cache, stats, creates } = setup([made("c/1"), made("c/2")]);
  cache.start("key1", "k", 0);
  await settle();
  cache.drop("key1", false);
  assert.equal(stats.cachesLive, 0);
  assert.equal(cache.nameFor("key1", "k", 0), undefined);
  await settle();
  assert.equal(cache.nameFor("key1", "k", 0), "c/2", "made again after a drop");
  cache.drop("key1", true);
  cache.stop();
  cache.start("key9", "k9", 0);
  assert.equal(cache.nameFor("key1", "k", 0), undefined);
  assert.equal(creates(), 2);
});

Deno.test("no cache is asked for on a model that lists no minimum (Flash-Lite), nor for a persona under it", async () => {
  const lite = setup([made("c/1")], "gemini-3.5-flash-lite");
  assert.equal(lite.cache.nameFor("key1", "k", 0), undefined);
  await settle();
  assert.equal(lite.creates(), 0, "Flash-Lite: caching is not counted on");
  assert.equal(lite.events[0]?.type, "cache_fallback");
  const flash = setup([made("c/1")], "gemini-3.8-flash");
  flash.stats.personaTokens = 4095;
  assert.equal(flash.cache.nameFor("key1", "k", 0), undefined);
  await settle();
  assert.equal(flash.creates(), 0, "under 3.8 Flash's 4,096 tokens");
  assert.match(String((flash.events[0] as { why?: string }).why), /4095 tokens.*4096/);
});
