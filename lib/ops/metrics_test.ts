import assert from "node:assert/strict";
import { BotMetrics, type MetricsSources } from "./metrics.ts";

const usage = { promptTokens: 1000, cachedTokens: 400, outputTokens: 100, thinkingTokens: 50 };

function sources(overrides: Partial<MetricsSources> = {}): MetricsSources {
  return {
    brokerStats: () => ({
      requests: 3,
      calls: 3,
      succeeded: 2,
      failures: {
        day_quota: 0,
        blocked: 0,
        interrupted: 0,
        unavailable: 1,
        rejected: 0,
        stopped: 0,
        cancelled: 0,
      },
      groundedCalls: 0,
      searchQueries: 0,
      timeouts: 0,
      keyRejections: 0,
      cachesLive: 1,
      retries: 1,
      rateLimitedMinute: 2,
      rateLimitedDay: 1,
      tokensIn: 1000,
      tokensOut: 100,
      tokensCached: 400,
      tokensThinking: 50,
      costUsd: 0.5,
      unusualFinishes: { MALFORMED_RESPONSE: 2 },
    }),
    queueDepth: () => 4,
    activeCalls: () => 1,
    liveSessions: () => 7,
    sessionCounts: () => ({ evicted: 1, reaped: 2, restarted: 3, crashed: 4 }),
    keys: () => [{
      keyId: "key1",
      requestsLastMinute: 5,
      tokensLastMinute: 900,
      requestsToday: 9,
      budget: { rpm: 10, tpm: 1000, rpd: 250 },
      parkedUntil: undefined,
      breaker: "closed",
    }],
    gatewayConnected: () => true,
    discordRateLimited: () => 6,
    storeHealth: () => ({ writable: false, pendingWrites: 3, writeFailures: 5, writesDropped: 1 }),
    ...overrides,
  };
}

Deno.test("the exposition carries recorded latencies and the figures read at scrape time", async () => {
  const metrics = new BotMetrics({ now: () => Date.UTC(2026, 0, 1) });
  metrics.watch(sources());
  metrics.messageReceived();
  metrics.firstText(800);
  metrics.replyDone(2500, "ok");
  metrics.brokerEvent({ type: "call", keyId: "key1", ms: 1200, queueMs: 30, usage });
  metrics.brokerEvent({ type: "retry", keyId: "key1", attempt: 1, delayMs: 1000, why: "429" });
  const text = await metrics.render();
  for (
    const line of [
      "soyebot_messages_total 1",
      'soyebot_message_first_text_seconds_bucket{le="1"} 1',
      'soyebot_message_reply_seconds_count{outcome="ok"} 1',
      "soyebot_gemini_call_seconds_sum 1.2",
      'soyebot_gemini_retries_total{reason="429"} 1',
      'soyebot_gemini_requests_total{outcome="unavailable"} 1',
      'soyebot_gemini_requests_total{outcome="ok"} 2',
      "soyebot_gemini_calls_total 3",
      'soyebot_gemini_rate_limited_total{scope="minute"} 2',
      'soyebot_gemini_tokens_total{kind="thinking"} 50',
      'soyebot_gemini_unusual_finishes_total{reason="MALFORMED_RESPONSE"} 2',
      "soyebot_gemini_cost_usd_total 0.5",
      "soyebot_discord_rate_limited_total 6",
      "soyebot_sessions_live 7",
      "soyebot_sessions_reaped_total 2",
      "soyebot_session_host_restarts_total 3",
      "soyebot_gemini_queue_depth 4",
      'soyebot_gemini_key_requests{key_id="key1",window="minute"} 5',
      'soyebot_gemini_key_budget_requests{key_id="key1",window="day"} 250',
      "soyebot_discord_gateway_connected 1",
      "soyebot_store_writable 0",
      "soyebot_store_pending_writes 3",
      "soyebot_store_write_failures_total 5",
      "soyebot_store_writes_dropped_total 1",
    ]
  ) assert.ok(text.includes(`${line}\n`), `missing "${line}" in:\n${text}`);
  // A second scrape reads the same totals, not twice as much.
  assert.ok((await metrics.render()).includes("soyebot_sessions_reaped_total 2\n"));
});

Deno.test("today's tokens and cost start again at Pacific midnight", () => {
  let now = Date.parse("2026-01-01T07:59:00Z"); // 23:59 in Los Angeles
  const metrics = new BotMetrics({ now: () => now, prices: { input: 1, output: 1, cached: 1 } });
  metrics.brokerEvent({ type: "call", keyId: "key1", ms: 1, queueMs: 0, usage });
  assert.equal(metrics.snapshot().today.tokensIn, 1000);
  now += 120_000;
  assert.equal(metrics.snapshot().today.tokensIn, 0);
  assert.equal(metrics.snapshot().today.day, "2026-01-01");
});
