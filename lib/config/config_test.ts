import assert from "node:assert/strict";
import { ConfigError, loadConfig, mergeEnvFile } from "./config.ts";

const TOKEN = `${btoa("1100000000000000001")}.abc.def`;
const minimal = { DISCORD_TOKEN: TOKEN, GEMINI_API_KEY: "key-1234567890" };

function rejects(env: Record<string, string>, variable: string, pattern: RegExp): void {
  assert.throws(() => loadConfig(env), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.variable, variable);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("loadConfig fills documented defaults from two variables", () => {
  const config = loadConfig(minimal);
  assert.equal(config.geminiModel, "gemini-3.5-flash-lite");
  assert.equal(config.dataDir, "./data");
  assert.equal(config.discordApiUrl, "https://discord.com/api");
  assert.equal(config.geminiApiUrl, "https://generativelanguage.googleapis.com");
  assert.equal(config.supervisor.maxSessions, 1000);
  assert.equal(config.supervisor.idleMs, 600_000);
  assert.equal(config.supervisor.sweepMs, 60_000);
  assert.equal(config.geminiMaxConcurrency, 10);
  assert.equal(config.geminiTimeoutMs, 30_000);
  assert.equal(config.geminiMaxWaitMs, 60_000);
  assert.equal(config.geminiThinking, undefined);
  assert.equal(config.windowDropBlock, 10);
  assert.deepEqual(config.geminiApiKeys, ["key-1234567890"]);
  assert.deepEqual(config.geminiKeyProjects, [undefined]);
  // 3.5 Flash-Lite's free tier and prices, from the model table.
  assert.deepEqual([config.geminiRpm, config.geminiTpm, config.geminiRpd], [15, 250_000, 500]);
  assert.deepEqual(
    [config.priceInputPerMillion, config.priceOutputPerMillion, config.priceCachedPerMillion],
    [0.3, 2.5, 0.03],
  );
});

Deno.test("limits and prices follow the model's row, the most cautious one off the table, and env overrides", () => {
  const flash = loadConfig({ ...minimal, GEMINI_MODEL: "gemini-3.8-flash" });
  assert.deepEqual([flash.geminiRpm, flash.geminiRpd, flash.priceOutputPerMillion], [5, 20, 3.75]);
  const unknown = loadConfig({ ...minimal, GEMINI_MODEL: "gemini-9-flash" });
  assert.deepEqual([unknown.geminiRpm, unknown.geminiRpd], [5, 20]);
  assert.equal(unknown.priceOutputPerMillion, 7.5, "the table's highest");
  const paid = loadConfig({ ...minimal, GEMINI_RPM: "1000", GEMINI_PRICE_OUTPUT: "1" });
  assert.deepEqual([paid.geminiRpm, paid.priceOutputPerMillion], [1000, 1]);
});

Deno.test("GEMINI_THINKING takes a level the model takes; a refused level or a budget stops the start", () => {
  assert.equal(loadConfig({ ...minimal, GEMINI_THINKING: "High" }).geminiThinking, "high");
  rejects(
    { ...minimal, GEMINI_MODEL: "gemini-3.8-flash", GEMINI_THINKING: "minimal" },
    "GEMINI_THINKING",
    /must be one of low, medium, high for gemini-3\.8-flash/,
  );
  rejects({ ...minimal, GEMINI_THINKING: "none" }, "GEMINI_THINKING", /minimal, low, medium, high/);
  rejects({ ...minimal, GEMINI_THINKING_BUDGET: "0" }, "GEMINI_THINKING_BUDGET", /GEMINI_THINKING/);
  // Off the table, any level is sent; a refusal is learned while running.
  const unknown = { ...minimal, GEMINI_MODEL: "gemini-9-flash", GEMINI_THINKING: "minimal" };
  assert.equal(loadConfig(unknown).geminiThinking, "minimal");
});

Deno.test("an AQ. key works like an AIza key", () => {
  const config = loadConfig({ DISCORD_TOKEN: TOKEN, GEMINI_API_KEY: "AQ.Ab8RN6example_key-0123" });
  assert.deepEqual(config.geminiApiKeys, ["AQ.Ab8RN6example_key-0123"]);
  const two = loadConfig({
    DISCORD_TOKEN: TOKEN,
    GEMINI_API_KEYS: "AQ.Ab8RN6key-one,AIzaSyKeyTwo",
  });
  assert.deepEqual(two.geminiApiKeys, ["AQ.Ab8RN6key-one", "AIzaSyKeyTwo"]);
});

Deno.test("loadConfig reads key groups of one project, and never shows a key it refuses", () => {
  const config = loadConfig({
    DISCORD_TOKEN: TOKEN,
    GEMINI_API_KEYS: "projA:a-key-000001|a-key-000002,b-key-000003",
  });
  assert.deepEqual(config.geminiApiKeys, ["a-key-000001", "a-key-000002", "b-key-000003"]);
  assert.deepEqual(config.geminiKeyProjects, ["projA", "projA", undefined]);
  rejects(
    { DISCORD_TOKEN: TOKEN, GEMINI_API_KEYS: "a-key-secret01|a-key-000002" },
    "GEMINI_API_KEYS",
    /^GEMINI_API_KEYS must be API keys .*projA:key1\|key2 \(entry 1: .*group name first/,
  );
  assert.throws(
    () => loadConfig({ DISCORD_TOKEN: TOKEN, GEMINI_API_KEYS: "p:a-key-secret01 x" }),
    (error: Error) => !error.message.includes("a-key-secret01"),
  );
});

Deno.test("loadConfig takes WINDOW_DROP_BLOCK from 1 (sliding) to the window's size", () => {
  assert.equal(loadConfig({ ...minimal, WINDOW_DROP_BLOCK: "1" }).windowDropBlock, 1);
  assert.equal(loadConfig({ ...minimal, WINDOW_DROP_BLOCK: "20" }).windowDropBlock, 20);
  rejects({ ...minimal, WINDOW_DROP_BLOCK: "21" }, "WINDOW_DROP_BLOCK", /from 1 to 20/);
  rejects({ ...minimal, WINDOW_DROP_BLOCK: "0" }, "WINDOW_DROP_BLOCK", /from 1 to 20/);
});

Deno.test("loadConfig names both credentials when a fresh checkout has neither", () => {
  rejects({}, "DISCORD_TOKEN", /DISCORD_TOKEN and GEMINI_API_KEY are missing/);
});

Deno.test("loadConfig names the missing Gemini key", () => {
  rejects({ DISCORD_TOKEN: TOKEN }, "GEMINI_API_KEY", /is missing/);
});

Deno.test("loadConfig refuses a malformed token without echoing it", () => {
  assert.throws(
    () => loadConfig({ ...minimal, DISCORD_TOKEN: "not-a-token-secret" }),
    (e: Error) => {
      assert.doesNotMatch(e.message, /not-a-token-secret/);
      return e instanceof ConfigError && e.variable === "DISCORD_TOKEN";
    },
  );
});

Deno.test("loadConfig splits GEMINI_API_KEYS and drops duplicates", () => {
  const config = loadConfig({
    DISCORD_TOKEN: TOKEN,
    GEMINI_API_KEYS: "a-key-000001, b-key-000002,a-key-000001",
  });
  assert.deepEqual(config.geminiApiKeys, ["a-key-000001", "b-key-000002"]);
});

Deno.test("loadConfig rejects numbers out of range, naming the variable and the range", () => {
  rejects({ ...minimal, SESSION_MAX: "0" }, "SESSION_MAX", /^SESSION_MAX .*from 1 to 1000000$/);
  rejects({ ...minimal, GEMINI_RPM: "ten" }, "GEMINI_RPM", /whole number/);
  rejects({ ...minimal, HTTP_PORT: "70000" }, "HTTP_PORT", /65535/);
  rejects({ ...minimal, GEMINI_MAX_WAIT_SECONDS: "0" }, "GEMINI_MAX_WAIT_SECONDS", /from 1 to/);
});

Deno.test("loadConfig rejects URLs that are not http(s)", () => {
  rejects({ ...minimal, DISCORD_API_URL: "ftp://x" }, "DISCORD_API_URL", /http\(s\) URL/);
  rejects({ ...minimal, GEMINI_API_URL: "nope" }, "GEMINI_API_URL", /http\(s\) URL/);
});

Deno.test("loadConfig rejects an unknown log level and a malformed guild id", () => {
  rejects({ ...minimal, LOG_LEVEL: "loud" }, "LOG_LEVEL", /one of debug, info, warning, error/);
  rejects({ ...minimal, DEV_GUILD_ID: "12" }, "DEV_GUILD_ID", /17 to 20 digits/);
});

Deno.test("mergeEnvFile lets the process environment win over .env", () => {
  const merged = mergeEnvFile("A=file\nB=file\n# comment\n", { A: "process" });
  assert.equal(merged.A, "process");
  assert.equal(merged.B, "file");
});

Deno.test("loadConfig never echoes a refused value: any variable may hold a pasted secret", () => {
  const secret = "AIzaSyPastedIntoTheWrongPlace0123456789";
  const cases: Record<string, string> = {
    HTTP_PORT: secret,
    SESSION_MAX: secret,
    GEMINI_PRICE_INPUT: secret,
    GEMINI_MODEL: `${secret}!`,
    DISCORD_API_URL: secret,
    GEMINI_API_URL: `ftp://user:${secret}@proxy`,
    LOG_LEVEL: secret,
    DEV_GUILD_ID: secret,
    REDIS_URL: `http://:${secret}@redis:6379/0`,
    SHARDS: secret,
    SESSION_TTL_DAYS: secret,
  };
  for (const [variable, value] of Object.entries(cases)) {
    assert.throws(() => loadConfig({ ...minimal, [variable]: value }), (e: Error) => {
      assert.ok(e instanceof ConfigError, variable);
      assert.equal(e.variable, variable);
      assert.ok(!e.message.includes(secret), `${variable} echoed its value`);
      return true;
    });
  }
});

Deno.test("loadConfig takes a DEV_GUILD_ID only as a snowflake", () => {
  assert.equal(
    loadConfig({ ...minimal, DEV_GUILD_ID: "1300000000000000001" }).devGuildId,
    "1300000000000000001",
  );
  for (const bad of ["1300000000000000001/../..", "123456789012345678901", "13e17"]) {
    rejects({ ...minimal, DEV_GUILD_ID: bad }, "DEV_GUILD_ID", /17 to 20 digits/);
  }
});

Deno.test("loadConfig reads the attachment limits, with defaults, and names a bad one", () => {
  assert.deepEqual(loadConfig(minimal).attachments, {
    maxCount: 4,
    maxBytes: 20 * 1024 * 1024,
    maxTotalBytes: 32 * 1024 * 1024,
    inlineMaxBytes: 4 * 1024 * 1024,
    fetchTimeoutMs: 20_000,
    budgetBytes: 64 * 1024 * 1024,
  });
  const set = loadConfig({
    ...minimal,
    ATTACHMENT_MAX_COUNT: "2",
    ATTACHMENT_MAX_BYTES: "1000",
    ATTACHMENT_MAX_TOTAL_BYTES: "1500",
    ATTACHMENT_INLINE_MAX_BYTES: "0",
    ATTACHMENT_FETCH_TIMEOUT_SECONDS: "1",
    ATTACHMENT_BUDGET_BYTES: "3000",
  });
  assert.deepEqual(set.attachments, {
    maxCount: 2,
    maxBytes: 1000,
    maxTotalBytes: 1500,
    inlineMaxBytes: 0,
    fetchTimeoutMs: 1000,
    budgetBytes: 3000,
  });
  rejects({ ...minimal, ATTACHMENT_MAX_COUNT: "11" }, "ATTACHMENT_MAX_COUNT", /from 1 to 10/);
  rejects({ ...minimal, ATTACHMENT_MAX_BYTES: "20MB" }, "ATTACHMENT_MAX_BYTES", /whole number/);
  rejects(
    { ...minimal, ATTACHMENT_FETCH_TIMEOUT_SECONDS: "0" },
    "ATTACHMENT_FETCH_TIMEOUT_SECONDS",
    /from 1 to 300/,
  );
  rejects(
    { ...minimal, ATTACHMENT_MAX_TOTAL_BYTES: "1500", ATTACHMENT_BUDGET_BYTES: "1000" },
    "ATTACHMENT_BUDGET_BYTES",
    /from 1500 to/,
  );
  rejects({ ...minimal, ATTACHMENT_BUDGET_BYTES: "lots" }, "ATTACHMENT_BUDGET_BYTES", /whole/);
});

Deno.test("loadConfig reads SHARDS of SHARD_COUNT, or runs every shard when neither is set", () => {
  assert.equal(loadConfig(minimal).shards, undefined);
  assert.deepEqual(loadConfig({ ...minimal, SHARDS: "1-2", SHARD_COUNT: "4" }).shards, {
    first: 1,
    last: 2,
    total: 4,
  });
  assert.deepEqual(loadConfig({ ...minimal, SHARDS: "3", SHARD_COUNT: "4" }).shards, {
    first: 3,
    last: 3,
    total: 4,
  });
  assert.deepEqual(loadConfig({ ...minimal, SHARD_COUNT: "2" }).shards, {
    first: 0,
    last: 1,
    total: 2,
  });
  rejects({ ...minimal, SHARDS: "0-1" }, "SHARD_COUNT", /is missing/);
  rejects({ ...minimal, SHARDS: "2-1", SHARD_COUNT: "4" }, "SHARDS", /range such as 0-3/);
  rejects({ ...minimal, SHARDS: "0-4", SHARD_COUNT: "4" }, "SHARDS", /below SHARD_COUNT/);
  rejects({ ...minimal, SHARDS: "0", SHARD_COUNT: "0" }, "SHARD_COUNT", /whole number/);
});

Deno.test("loadConfig takes REDIS_URL only as a redis:// URL and never shows its password", () => {
  const url = "redis://:s3cret-pass@10.0.0.5:6380/2";
  assert.equal(loadConfig({ ...minimal, REDIS_URL: url }).redisUrl, url);
  assert.equal(
    loadConfig({ ...minimal, REDIS_URL: "rediss://cache:6379" }).redisUrl,
    "rediss://cache:6379",
  );
  assert.equal(loadConfig(minimal).redisUrl, undefined);
  for (
    const bad of ["redis://", "localhost:6379", "redis://h:6379/db", "redis://:s3cret-pass@h/0?x=1"]
  ) {
    assert.throws(() => loadConfig({ ...minimal, REDIS_URL: bad }), (e: Error) => {
      assert.ok(e instanceof ConfigError && e.variable === "REDIS_URL", bad);
      assert.doesNotMatch(e.message, /s3cret/);
      return true;
    });
  }
});

Deno.test("loadConfig keeps Redis windows SESSION_TTL_DAYS, 30 unless set", () => {
  assert.equal(loadConfig(minimal).sessionTtlMs, 30 * 86_400_000);
  assert.equal(loadConfig({ ...minimal, SESSION_TTL_DAYS: "2" }).sessionTtlMs, 2 * 86_400_000);
  rejects({ ...minimal, SESSION_TTL_DAYS: "0" }, "SESSION_TTL_DAYS", /whole number/);
});
