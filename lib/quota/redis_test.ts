import assert from "node:assert/strict";
import { type RedisServer, redisTest } from "../../tests/redis_server.ts";
import { connectRedis, type RedisConnection, whenReady } from "../redis_client.ts";
import { LEASE_LIFE_MS, RedisQuotaShare } from "./redis.ts";
import { MemoryTokenPool, type ReserveResult } from "./token_pool.ts";
import { SlowProxy } from "../../tests/slow_proxy.ts";

const KEYS = ["AIza-shared-project-key"];

/** One "process": its own connection, share and pool. */
interface Proc {
  redis: RedisConnection;
  share: RedisQuotaShare;
  pool: MemoryTokenPool;
}

async function proc(server: RedisServer, budget: { rpm: number; tpm: number; rpd: number }) {
  const redis = connectRedis(server.url());
  await whenReady(redis, 5_000);
  const share = new RedisQuotaShare({ redis, keys: KEYS, budget, processes: 2 });
  await until(() => share.online, "the share to go online");
  const pool = new MemoryTokenPool(KEYS, budget, { share });
  return { redis, share, pool };
}

async function close(...procs: Proc[]): Promise<void> {
  for (const p of procs) {
    await p.share.close();
    p.redis.disconnect();
  }
}

/** Reserves on each pool in turn for `ms`, as two busy brokers would; returns the counts. */
async function race(
  procs: Proc[],
  ms: number,
  counts = procs.map(() => 0),
  most = Infinity,
): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    procs.forEach((p, i) => {
      while (counts[i] < most && p.pool.reserve(100, Date.now()).ok) counts[i]++;
    });
    await delay(5);
  }
  return counts;
}

redisTest(
  "two processes leasing from Redis use the whole budget together and never more",
  async (s) => {
    const budget = { rpm: 20, tpm: 1_000_000, rpd: 1000 };
    const a = await proc(s, budget);
    const b = await proc(s, budget);
    try {
      // Longer than a lease's life: what one leased and did not use goes back to the other.
      const counts = await race([a, b], LEASE_LIFE_MS * 2);
      const total = counts[0] + counts[1];
      assert.equal(total, budget.rpm, `together ${counts.join(" + ")}`);
      assert.ok(counts[0] > 0 && counts[1] > 0, `both were served: ${counts}`);
    } finally {
      await close(a, b);
    }
  },
);

redisTest("an idle process's unused lease goes back to a busy one", async (s) => {
  const budget = { rpm: 16, tpm: 1_000_000, rpd: 1000 };
  const a = await proc(s, budget);
  const b = await proc(s, budget);
  try {
    assert.ok(b.pool.reserve(100, Date.now()).ok === false, "the first ask only leases");
    await delay(50);
    assert.ok(b.pool.reserve(100, Date.now()).ok, "b leased a chunk and spent one of it");
    const [busy] = await race([a], LEASE_LIFE_MS * 2);
    assert.equal(busy, budget.rpm - 1, "a got everything but b's one request");
  } finally {
    await close(a, b);
  }
});

redisTest("a 429's rest and a spent day reach every process through Redis", async (s) => {
  const budget = { rpm: 100, tpm: 1_000_000, rpd: 1000 };
  const a = await proc(s, budget);
  const b = await proc(s, budget);
  try {
    const [got] = await race([a], 100);
    assert.ok(got > 0);
    const reserved = await reserveSoon(a.pool);
    const now = Date.now();
    a.pool.throttled(reserved, now + 30_000, undefined, now);
    await delay(50);
    const parked = b.pool.reserve(100, Date.now());
    await delay(50);
    const rests = b.pool.reserve(100, Date.now());
    assert.ok(
      !parked.ok && !rests.ok && rests.waitMs > 25_000,
      `b rests: ${JSON.stringify(rests)}`,
    );

    const c = await proc(s, budget);
    const d = await proc(s, budget);
    c.pool.exhaustDay("key1", Date.now());
    await delay(50);
    d.pool.reserve(100, Date.now());
    await delay(50);
    const refused = d.pool.reserve(100, Date.now());
    assert.ok(!refused.ok && refused.dayExhausted, JSON.stringify(refused));
    await close(c, d);
  } finally {
    await close(a, b);
  }
});

redisTest("a limit learned from a 429 lowers every process's leases", async (s) => {
  const budget = { rpm: 40, tpm: 1_000_000, rpd: 1000 };
  const a = await proc(s, budget);
  const b = await proc(s, budget);
  try {
    const [used] = await race([a], 300, [0], 12);
    assert.equal(used, 12);
    // The server refused the 13th: the project's real limit is what everyone held, not 40.
    const refused = await reserveSoon(a.pool);
    const now = Date.now();
    a.pool.throttled(refused, now, "requests", now);
    await delay(100);
    const after = await race([a, b], LEASE_LIFE_MS * 2);
    const total = 12 + after[0] + after[1];
    assert.ok(total <= 14, `${after}: ${total} in the window, past the learned limit of ~13`);
  } finally {
    await close(a, b);
  }
});

redisTest(
  "with Redis away each process keeps to 1/N of what was left; back, its sends count",
  async (s) => {
    const budget = { rpm: 40, tpm: 1_000_000, rpd: 1000 };
    const a = await proc(s, budget);
    const b = await proc(s, budget);
    const c = await proc(s, budget);
    try {
      const before = await race([a], 1000, [0], 24);
      assert.equal(before[0], 24, "a used 24 of 40 through Redis");
      // Long enough for the idle b's look at what everyone holds.
      await delay(1500);
      await s.pause();
      await until(() => !a.share.online && !b.share.online, "the shares to fall back");
      const during = await race([a, b], 300);
      // Half of what was left each: 16, less the chunk a had leased ahead and not used.
      assert.ok(during[0] + during[1] <= 16 && Math.min(...during) >= 6, `meanwhile: ${during}`);
      await s.resume();
      await until(() => a.share.online && b.share.online && c.share.online, "the shares back");
      // Redis came back empty: everyone wrote back what they used, so all together, a newcomer
      // included, get only the rest.
      const after = await race([a, b, c], LEASE_LIFE_MS * 2);
      const total = [...before, ...during, ...after].reduce((x, y) => x + y);
      assert.ok(total <= budget.rpm, `${before} ${during} ${after}: ${total} over ${budget.rpm}`);
    } finally {
      await close(a, b, c);
    }
  },
);

/** A reservation within a second (the first ask may only lease). */
async function reserveSoon(pool: MemoryTokenPool) {
  const deadline = Date.now() + 1000;
  let last: ReserveResult = pool.reserve(100, Date.now());
  while (!last.ok && Date.now() < deadline) {
    await delay(10);
    last = pool.reserve(100, Date.now());
  }
  if (!last.ok) throw new Error(JSON.stringify(last));
  return last.reservation;
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

redisTest(
  "sends made while Redis timed out and crawled are all counted in the shared day",
  async (s) => {
    const proxy = SlowProxy.start(s.port);
    const redis = connectRedis(proxy.url());
    const budget = { rpm: 40, tpm: 1_000_000, rpd: 1000 };
    const share = new RedisQuotaShare({ redis, keys: KEYS, budget, processes: 2 });
    try {
      await whenReady(redis, 5_000);
      await until(() => share.online, "the share to go online");
      const pool = new MemoryTokenPool(KEYS, budget, { share });
      let sent = 0;
      const sendFor = async (ms: number) => {
        const deadline = Date.now() + ms;
        while (Date.now() < deadline) {
          if (pool.reserve(100, Date.now()).ok) sent++;
          await delay(100);
        }
      };
      // Past the command timeout (2 s): leases fail, and the share falls back to its local part,
      // also while its first look back at Redis times out; then Redis crawls, then is quick.
      proxy.latencyMs = 2_500;
      await sendFor(5_000);
      proxy.latencyMs = 400;
      await sendFor(2_000);
      proxy.latencyMs = 0;
      await sendFor(1_000);
      assert.ok(sent > 10, `${sent} sent`);
      await until(() => share.online, "the share back online", 10_000);
      let counted = 0;
      const deadline = Date.now() + 5_000;
      while ((counted = await dayCounted(s)) !== sent && Date.now() < deadline) await delay(100);
      assert.equal(counted, sent, `the shared day counts ${counted} of ${sent} sends`);
    } finally {
      await share.close();
      redis.disconnect();
      await proxy.close();
    }
  },
);

/** Requests counted today over every process, as the day hashes hold them. */
async function dayCounted(server: RedisServer): Promise<number> {
  const redis = connectRedis(server.url());
  try {
    await whenReady(redis, 5_000);
    let total = 0;
    for (const key of await redis.keys("soyebot:quota:*:day:*")) {
      for (const [field, value] of Object.entries(await redis.hgetall(key))) {
        if (field !== "spent") total += Number(value);
      }
    }
    return total;
  } finally {
    redis.disconnect();
  }
}
