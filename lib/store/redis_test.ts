import assert from "node:assert/strict";
import { type RedisServer, redisTest } from "../../tests/redis_server.ts";
import { connectRedis, whenReady } from "../redis_client.ts";
import { RedisStore, type RedisStoreConfig } from "./redis.ts";
import { RetryingStore, type StoreEvent } from "./retrying.ts";
import { isStoreOutage } from "./sqlite.ts";

const DAY_MS = 86_400_000;

function config(server: RedisServer, extra: Partial<RedisStoreConfig> = {}): RedisStoreConfig {
  return { url: server.url(), ttlMs: 30 * DAY_MS, turnsOf: "0-0/1", ...extra };
}

redisTest("RedisStore keeps a channel's exchanges in order, trimmed to the window", async (s) => {
  const store = await RedisStore.connect(config(s));
  assert.deepEqual(await store.load("1"), []);
  for (let i = 0; i < 25; i++) await store.append("1", { user: `u${i}`, model: "m", at: i }, 20);
  await store.append("2", { user: "x", model: "y", at: 3, id: "m9" }, 20);
  const window = await store.load("1");
  assert.equal(window.length, 20);
  assert.deepEqual(window[0], { user: "u5", model: "m", at: 5 });
  assert.deepEqual(await store.load("2"), [{ user: "x", model: "y", at: 3, id: "m9" }]);
  await store.delete("1");
  assert.deepEqual(await store.load("1"), []);
  assert.equal((await store.load("2")).length, 1);
  await store.close();
});

redisTest("RedisStore is one history for every process that opens it", async (s) => {
  const first = await RedisStore.connect(config(s, { turnsOf: "0-0/2" }));
  const second = await RedisStore.connect(config(s, { turnsOf: "1-1/2" }));
  await first.append("7", { user: "안녕", model: "응", at: 1, id: "a" }, 20);
  await first.saveMemory("7", "민수는 고양이를 좋아한다", 1);
  assert.deepEqual(await second.load("7"), [{ user: "안녕", model: "응", at: 1, id: "a" }]);
  assert.equal(await second.loadMemory("7"), "민수는 고양이를 좋아한다");
  await second.delete("7");
  assert.deepEqual(await first.load("7"), []);
  assert.equal(await first.loadMemory("7"), "");
  await Promise.all([first.close(), second.close()]);
});

redisTest("RedisStore keeps an exchange appended twice with the same id once", async (s) => {
  const store = await RedisStore.connect(config(s));
  const exchange = { user: "u", model: "m", at: 1, id: "m1" };
  await store.append("1", exchange, 20);
  await store.append("1", exchange, 20);
  await store.append("1", { user: "u", model: "m", at: 2 }, 20);
  await store.append("1", { user: "u", model: "m", at: 2 }, 20);
  assert.equal((await store.load("1")).length, 3, "only a repeated id is a repeat");
  await store.close();
});

redisTest("RedisStore sets the channel's TTL on every write", async (s) => {
  const store = await RedisStore.connect(config(s, { ttlMs: 60_000 }));
  await store.append("1", { user: "u", model: "m", at: 1 }, 20);
  await store.saveMemory("1", "memory", 1);
  const raw = connectRedis(s.url());
  await whenReady(raw, 5_000);
  for (const key of ["soyebot:{1}:window", "soyebot:{1}:memory"]) {
    const ttl = await raw.pttl(key);
    assert.ok(ttl > 50_000 && ttl <= 60_000, `${key} expires within the TTL: ${ttl}`);
  }
  const short = await RedisStore.connect(config(s, { ttlMs: 50 }));
  await short.append("2", { user: "u", model: "m", at: 1 }, 20);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.deepEqual(await short.load("2"), [], "an idle window is gone after its TTL");
  raw.disconnect();
  await Promise.all([store.close(), short.close()]);
});

redisTest(
  "RedisStore's unanswered turns are taken only by the shards that noted them",
  async (s) => {
    const zero = await RedisStore.connect(config(s, { turnsOf: "0-0/2" }));
    const one = await RedisStore.connect(config(s, { turnsOf: "1-1/2" }));
    await zero.beginTurn("10", "m2", 2);
    await zero.beginTurn("11", "m1", 1);
    await zero.beginTurn("12", "m3", 3);
    await zero.append("12", { user: "u", model: "m", at: 4, id: "m3" }, 20);
    await one.beginTurn("20", "m4", 4);
    await one.endTurn("20", "m4");
    await one.beginTurn("21", "m5", 5);
    assert.deepEqual(await zero.takeUnanswered(), [
      { channelId: "11", id: "m1" },
      { channelId: "10", id: "m2" },
    ]);
    assert.deepEqual(await zero.takeUnanswered(), [], "forgotten as they are read");
    assert.deepEqual(await one.takeUnanswered(), [{ channelId: "21", id: "m5" }]);
    await Promise.all([zero.close(), one.close()]);
  },
);

redisTest("RedisStore fails fast as an outage while Redis is away, and reconnects", async (s) => {
  const store = await RedisStore.connect(config(s));
  await store.append("1", { user: "before", model: "m", at: 1 }, 20);
  await s.pause();
  const started = Date.now();
  const error = await store.append("1", { user: "during", model: "m", at: 2 }, 20).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(isStoreOutage(error), `an outage, not a bug: ${error}`);
  assert.ok(Date.now() - started < 3_000, "it does not wait behind a dead socket");
  assert.doesNotMatch(String(error), /password/);
  await s.resume();
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      await store.append("1", { user: "after", model: "m", at: 3 }, 20);
      break;
    } catch (e) {
      if (!isStoreOutage(e)) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  assert.deepEqual((await store.load("1")).map((e) => e.user), ["after"], "a restart lost data");
  await store.close();
});

redisTest("RetryingStore holds writes while Redis is away and writes them back", async (s) => {
  const events: StoreEvent[] = [];
  const store = new RetryingStore(await RedisStore.connect(config(s)), {
    retry: { baseMs: 100, maxMs: 200 },
    onEvent: (event) => events.push(event),
  });
  await s.pause();
  assert.equal(await store.append("1", { user: "held", model: "m", at: 1 }, 20), "unsaved");
  assert.equal(store.writable, false);
  await s.resume();
  const deadline = Date.now() + 10_000;
  while (!store.writable && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(events.some((e) => e.type === "recovered"), JSON.stringify(events));
  const fresh = await RedisStore.connect(config(s));
  assert.deepEqual((await fresh.load("1")).map((e) => e.user), ["held"]);
  await Promise.all([store.close(), fresh.close()]);
});

redisTest("RedisStore keeps a model turn's parts as received", async (s) => {
  const store = await RedisStore.connect(config(s));
  const modelParts = [
    {
      thoughtSignature: "c2ln",
      toolResponse: { id: "a1", response: { search_suggestions: "<b/>" } },
    },
    { text: "서울이야.", thoughtSignature: "ZW5k" },
  ];
  await store.append("1", { user: "q", model: "서울이야.", at: 1, id: "m1", modelParts }, 20);
  assert.deepEqual(await store.load("1"), [
    { user: "q", model: "서울이야.", at: 1, id: "m1", modelParts },
  ]);
  await store.close();
});
redisTest(
  "RedisStore keeps a model turn's parts, signatures included, and reads items stored before them",
  async (s) => {
    const store = await RedisStore.connect(config(s));
    const redis = connectRedis(s.url());
    try {
      await whenReady(redis, 5000);
      // An item as the store wrote it before parts were kept.
      await redis.rpush("soyebot:{5}:window", JSON.stringify({ user: "옛날", model: "응", at: 1 }));
      const parts = [{ text: "지금" }, { text: "", thoughtSignature: "c2lnbmF0dXJl" }];
      await store.append("5", { user: "지금?", model: "지금", at: 2, modelParts: parts }, 20);
      assert.deepEqual(await store.load("5"), [
        { user: "옛날", model: "응", at: 1 },
        { user: "지금?", model: "지금", at: 2, modelParts: parts },
      ]);
    } finally {
      redis.disconnect();
      await store.close();
    }
  },
);
