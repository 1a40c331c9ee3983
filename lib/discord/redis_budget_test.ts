import assert from "node:assert/strict";
import { type RedisServer, redisTest } from "../../tests/redis_server.ts";
import { connectRedis, type RedisConnection, whenReady } from "../redis_client.ts";
import { RedisRequestBudget, SLOTS_PER_SLIDING_SECOND } from "./redis_budget.ts";
import { RequestPacer } from "./request_pacer.ts";
import { SlowProxy } from "../../tests/slow_proxy.ts";

const RATE = 40;

/** Two "processes" pacing at RATE each, sharing one budget of RATE; the send times of each. */
async function pacedFor(
  server: RedisServer,
  ms: number,
  during?: (elapsed: number) => Promise<void>,
): Promise<number[][]> {
  const connections: RedisConnection[] = [];
  const sent: number[][] = [[], []];
  const pacers = await Promise.all([0, 1].map(async () => {
    const redis = connectRedis(server.url());
    connections.push(redis);
    await whenReady(redis, 5_000);
    const shared = new RedisRequestBudget({ redis, botId: "42", perSecond: RATE, processes: 2 });
    return new RequestPacer({ perSecond: RATE, burst: 3, shared });
  }));
  const started = Date.now();
  let stop = false;
  const loops = pacers.map(async (pacer, i) => {
    while (!stop) {
      await pacer.take("post");
      sent[i].push(Date.now());
    }
  });
  await during?.(Date.now() - started);
  await new Promise((resolve) => setTimeout(resolve, ms - (Date.now() - started)));
  stop = true;
  for (const pacer of pacers) pacer.close();
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 100))]);
  for (const redis of connections) redis.disconnect();
  return sent;
}

/** The most sends in any sliding second. */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

redisTest("two processes pacing through one Redis budget stay within it together", async (s) => {
  const [a, b] = await pacedFor(s, 3000);
  const all = [...a, ...b];
  const slotLimit = Math.floor(RATE / SLOTS_PER_SLIDING_SECOND);
  // Each slot's limit over both processes; a sliding second spans at most five slots.
  assert.ok(busiestSecond(all) <= RATE, `${busiestSecond(all)} in one second`);
  assert.ok(all.length <= 3 * RATE + slotLimit, `${all.length} in 3 s at ${RATE}/s`);
  assert.ok(all.length >= 2 * RATE * 0.8, `${all.length} in 3 s: the budget is used`);
  assert.ok(a.length > RATE / 2 && b.length > RATE / 2, `both sent: ${a.length}, ${b.length}`);
});

redisTest("with Redis away each process keeps to 1/N of every slot", async (s) => {
  const [a, b] = await pacedFor(s, 2500, async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await s.pause();
  });
  const late = [...a, ...b].filter((t) => t > Math.min(...a) + 600);
  assert.ok(late.length > 0, "requests go on without Redis");
  // 1/N of every slot each: together still within the rate, where unshared they would double it.
  assert.ok(busiestSecond(late) <= RATE, `${busiestSecond(late)} a second without Redis`);
  await s.resume();
});

redisTest("with Redis slow each process keeps to 1/N of every slot, and says so", async (s) => {
  const proxy = SlowProxy.start(s.port);
  const redis = connectRedis(proxy.url());
  const told: (string | undefined)[] = [];
  const pacer = (shared: RedisRequestBudget) => new RequestPacer({ perSecond: RATE, shared });
  try {
    await whenReady(redis, 5_000);
    const shared = new RedisRequestBudget({
      redis,
      botId: "42",
      perSecond: RATE,
      processes: 2,
      onDegraded: (why) => told.push(why),
    });
    const paced = pacer(shared);
    // Every grant would come back after its 250 ms slot: none could ever be spent.
    proxy.latencyMs = 400;
    const sent: number[] = [];
    let stop = false;
    const sending = (async () => {
      while (!stop) {
        await paced.take("post");
        sent.push(Date.now());
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    stop = true;
    paced.close();
    await Promise.race([sending, new Promise((resolve) => setTimeout(resolve, 100))]);
    assert.deepEqual(told, ["slow"]);
    assert.equal(shared.degraded, "slow");
    // The local share: half of each slot's limit, so a second (5 slots) holds at most 20.
    const slotLimit = Math.floor(RATE / SLOTS_PER_SLIDING_SECOND);
    assert.ok(busiestSecond(sent) <= (slotLimit / 2) * SLOTS_PER_SLIDING_SECOND, `${sent.length}`);
    assert.ok(sent.length > 0, "requests go on with Redis slow");

    proxy.latencyMs = 0;
    const healed = pacer(shared);
    await until(async () => {
      await healed.take("post");
      return shared.degraded === undefined;
    });
    healed.close();
    assert.deepEqual(told, ["slow", undefined]);
  } finally {
    redis.disconnect();
    await proxy.close();
  }
});

async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out");
  }
}
