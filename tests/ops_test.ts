/**
 * Operations, end to end: the real bot (started as `deno task start` starts it) with `HTTP_PORT`
 * set, against the fakes. The health, readiness and metrics endpoints, the status page in headless
 * Chromium, and the redaction of a secret that comes back inside an error.
 */
import assert from "node:assert/strict";
import { quotaErrorBody } from "./fakes/fake_gemini.ts";
import { type BotProcess, GEMINI_KEY, ROOT, until, World } from "./harness.ts";

const CHANNEL = "1200000000000000011";
const GUILD = "1300000000000000011";
const CHROMIUM = "/usr/bin/chromium";
// Spawning is allowed to tests, reading /usr/bin is not: ask the binary itself.
const hasChromium = await new Deno.Command(CHROMIUM, { args: ["--version"], stdout: "null" })
  .output().then((out) => out.success, () => false);

/** Starts the bot with the endpoints on an ephemeral port; returns it and the base URL. */
async function startWithHttp(
  world: World,
  extra: Record<string, string> = {},
): Promise<{ bot: BotProcess; base: string }> {
  // The daily budget the figures below show; the harness's own is far larger.
  const bot = await world.startBot({ HTTP_PORT: "0", GEMINI_RPD: "250", ...extra });
  const pattern = /Operations endpoints on http:\/\/([\d.]+):(\d+)\//;
  await bot.waitForOutput(pattern);
  const [, host, port] = bot.output.match(pattern)!;
  return { bot, base: `http://${host}:${port}` };
}

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    body: await response.text(),
  };
}

/** The value of one sample line of a Prometheus exposition, or undefined. */
function sample(metrics: string, name: string, labels = ""): number | undefined {
  const wanted = labels ? `${name}{${labels}}` : name;
  for (const line of metrics.split("\n")) {
    const space = line.lastIndexOf(" ");
    if (space > 0 && line.slice(0, space) === wanted) return Number(line.slice(space + 1));
  }
  return undefined;
}

async function mention(world: World, content: string): Promise<void> {
  await world.mention(CHANNEL, GUILD, content);
}

function botMessages(world: World): string[] {
  return world.discord.messagesIn(CHANNEL).filter((m) => m.author.bot && !m.deleted).map((m) =>
    m.content
  );
}

Deno.test("the endpoints answer, and the metrics move when a message flows", async () => {
  const world = await World.create();
  try {
    const { base } = await startWithHttp(world);

    const health = await get(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(health.body, "ok\n");
    let ready = await get(`${base}/readyz`);
    for (let i = 0; i < 50 && ready.status !== 200; i++) {
      // The session hosts create the database just after start.
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await get(`${base}/readyz`);
    }
    assert.equal(ready.status, 200, ready.body);
    assert.match(ready.body, /gateway: ok\nstore: ok/);
    assert.equal((await get(`${base}/nope`)).status, 404);
    const post = await fetch(`${base}/metrics`, { method: "POST" });
    await post.body?.cancel();
    assert.equal(post.status, 405);

    const before = await get(`${base}/metrics`);
    assert.equal(before.status, 200);
    assert.match(before.type, /^text\/plain; version=0\.0\.4/);
    assert.equal(sample(before.body, "soyebot_messages_total"), 0);
    assert.equal(sample(before.body, "soyebot_message_first_text_seconds_count"), 0);
    assert.equal(sample(before.body, "soyebot_discord_gateway_connected"), 1);
    assert.equal(
      sample(before.body, "soyebot_gemini_key_budget_requests", 'key_id="key1",window="day"'),
      250,
    );

    world.gemini.reply("안녕, 나 소예야. 오늘 뭐 했어?");
    await mention(world, "안녕?");
    await until(() => botMessages(world).at(-1) === "안녕, 나 소예야. 오늘 뭐 했어?", "the reply");

    let after = await get(`${base}/metrics`);
    for (
      let i = 0;
      i < 50 && sample(after.body, "soyebot_message_reply_seconds_count", 'outcome="ok"') !== 1;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await get(`${base}/metrics`);
    }
    const m = after.body;
    assert.equal(sample(m, "soyebot_messages_total"), 1);
    assert.equal(sample(m, "soyebot_message_first_text_seconds_count"), 1);
    assert.equal(sample(m, "soyebot_message_reply_seconds_count", 'outcome="ok"'), 1);
    assert.equal(sample(m, "soyebot_gemini_call_seconds_count"), 1);
    assert.equal(sample(m, "soyebot_gemini_requests_total", 'outcome="ok"'), 1);
    assert.equal(sample(m, "soyebot_gemini_calls_total"), 1);
    assert.ok(sample(m, "soyebot_gemini_tokens_total", 'kind="input"')! > 0);
    assert.ok(sample(m, "soyebot_gemini_tokens_total", 'kind="output"')! > 0);
    assert.ok(sample(m, "soyebot_gemini_cost_usd_total")! > 0);
    assert.equal(sample(m, "soyebot_sessions_live"), 1);
    assert.equal(sample(m, "soyebot_gemini_queue_depth"), 0);
    assert.equal(sample(m, "soyebot_gemini_key_requests", 'key_id="key1",window="day"'), 1);
    assert.equal(sample(m, "soyebot_gemini_rate_limited_total", 'scope="minute"'), 0);
    assert.equal(sample(m, "soyebot_discord_rate_limited_total"), 0);
    assert.ok(sample(m, "process_resident_memory_bytes")! > 0);
  } finally {
    await world.close();
  }
});

Deno.test("readyz answers 503 once the gateway is gone, while healthz stays 200", async () => {
  const world = await World.create();
  try {
    const { base } = await startWithHttp(world);
    // Take Discord away entirely: the gateway cannot come back.
    await world.discord.close();
    let ready = await get(`${base}/readyz`);
    for (let i = 0; i < 100 && ready.status !== 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      ready = await get(`${base}/readyz`);
    }
    assert.equal(ready.status, 503);
    assert.match(ready.body, /not ready\ngateway: down/);
    assert.equal((await get(`${base}/healthz`)).status, 200);
    const metrics = await get(`${base}/metrics`);
    assert.equal(sample(metrics.body, "soyebot_discord_gateway_connected"), 0);
  } finally {
    await world.close();
  }
});

Deno.test("a key that comes back inside an error body is redacted from the logs, the page and the metrics", async () => {
  const world = await World.create();
  // A Gemini stand-in that echoes secrets in every error, as a careless proxy might: the key it
  // was sent, and the bot's Discord token (as if a misconfigured proxy had forwarded it).
  const echo = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const key = req.headers.get("x-goog-api-key") ?? "";
    const message = `API key ${key} is not valid here (forwarded ${world.discord.token})`;
    const body = { error: { code: 400, message, status: "INVALID_ARGUMENT" } };
    return Response.json(body, { status: 400 });
  });
  try {
    const { bot, base } = await startWithHttp(world, {
      GEMINI_API_URL: `http://127.0.0.1:${echo.addr.port}`,
      LOG_LEVEL: "debug",
    });
    await mention(world, "안녕?");
    // The answer fails (400 is not retried) and the persona cache falls back with the error text.
    await until(() => botMessages(world).length > 0, "the failure notice");
    await bot.waitForOutput(/cache_fallback/);
    const page = await get(`${base}/`);
    const metrics = await get(`${base}/metrics`);
    assert.match(page.body, /\[REDACTED\]/, "the page shows the redacted error");
    assert.ok(bot.output.includes("[REDACTED]"), "the log shows the redacted error");
    for (
      const [where, text] of [["output", bot.output], ["page", page.body], [
        "metrics",
        metrics.body,
      ]]
    ) {
      assert.ok(!text.includes(GEMINI_KEY), `the key leaked into the ${where}`);
      assert.ok(!text.includes(world.discord.token), `the token leaked into the ${where}`);
    }
  } finally {
    await world.close();
    await echo.shutdown();
  }
});

Deno.test({
  name: "the status page shows the running bot's figures in headless Chromium",
  ignore: !hasChromium,
  async fn() {
    const world = await World.create();
    try {
      const { base } = await startWithHttp(world);
      for (const [i, text] of ["첫 번째 답이야.", "두 번째 답이야.", "세 번째 답이야."].entries()) {
        world.gemini.reply(text);
        await mention(world, `질문 ${i + 1}`);
        await until(() => botMessages(world).at(-1) === text, `reply ${i + 1}`, 15_000);
      }
      const metrics = (await get(`${base}/metrics`)).body;
      const tokensIn = sample(metrics, "soyebot_gemini_tokens_total", 'kind="input"')!;

      const dom = await chromium(["--dump-dom", `${base}/`]);
      assert.match(dom, /<div class="value" id="live-sessions">1<\/div>/);
      assert.match(dom, /<div class="value" id="messages">3<\/div>/);
      assert.match(dom, /<div class="value" id="queue-depth">0<\/div>/);
      assert.match(dom, /<dd id="tokens-in">([\d,]+)<\/dd>/);
      const shownIn = Number(
        dom.match(/<dd id="tokens-in">([\d,]+)<\/dd>/)![1].replaceAll(",", ""),
      );
      assert.equal(shownIn, tokensIn);
      assert.match(dom, /<tr id="key-key1">[\s\S]*?3 \/ 250/);
      assert.match(
        dom,
        /<tr id="latency-first"><td>First visible text<\/td><td>\d+ ms|<tr id="latency-first"><td>First visible text<\/td><td>[\d.]+ s/,
      );
      assert.match(dom, /<svg class="chart" id="latency-chart"/);
      assert.match(dom, /gateway connected/);
      assert.ok(!dom.includes(GEMINI_KEY));

      await Deno.mkdir(`${ROOT}data/screenshots`, { recursive: true });
      const shot = `${ROOT}data/screenshots/status-page.png`;
      await Deno.remove(shot).catch(() => {});
      await chromium([`--screenshot=${shot}`, "--window-size=1200,900", `${base}/`]);
      const png = await Deno.readFile(shot);
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG was written");
      assert.ok(png.length > 10_000, "the screenshot is not blank");
    } finally {
      await world.close();
    }
  },
});

/** Runs Debian's Chromium headless with the flags this machine's closed network needs. */
async function chromium(args: string[]): Promise<string> {
  const profile = await Deno.makeTempDir({ dir: `${ROOT}data`, prefix: "chromium-" });
  try {
    const { code, stdout, stderr } = await new Deno.Command(CHROMIUM, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        `--user-data-dir=${profile}`,
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    if (code !== 0) throw new Error(`chromium exited ${code}: ${new TextDecoder().decode(stderr)}`);
    return out;
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

Deno.test("a Discord REST 429 shows in soyebot_discord_rate_limited_total", async () => {
  const world = await World.create();
  try {
    const { base } = await startWithHttp(world);
    world.gemini.reply("늦게라도 보낼게.");
    world.discord.rateLimitNext("POST", new RegExp(`/channels/${CHANNEL}/messages$`), {
      retryAfterSeconds: 1,
    });
    await mention(world, "안녕");
    await until(() => botMessages(world).includes("늦게라도 보낼게."), "the reply after the 429");
    const metrics = (await get(`${base}/metrics`)).body;
    assert.equal(sample(metrics, "soyebot_discord_rate_limited_total"), 1);
  } finally {
    await world.close();
  }
});

Deno.test("under concurrency every log line of a turn carries that turn's own ids", async () => {
  const world = await World.create();
  try {
    // One call at a time: the second channel queues behind the first, whose 429 makes both wait,
    // so the second's countdown is posted while the broker handles the first's failure.
    const bot = await world.startBot({
      LOG_FORMAT: "json",
      GEMINI_MAX_CONCURRENCY: "1",
      USER_RATE_LIMIT: "100",
    });
    const quota = quotaErrorBody("minute", "gemini-2.5-flash", 10, { seconds: 8 });
    world.gemini.script({ error: { status: 429, body: quota }, delayFirstMs: 700 });
    const channels = ["1200000000000000031", "1200000000000000032"];
    const say = (channelId: string) =>
      world.discord.sendUserMessage({
        channelId,
        guildId: "1300000000000000001",
        content: "안녕?",
        mentionsBot: true,
        username: "민수",
      });
    await say(channels[0]);
    await until(() => world.generateRequests().length === 1, "the first call");
    await say(channels[1]);
    await until(
      () => (bot.output.match(/Countdown posted/g) ?? []).length === 2,
      "both countdowns",
      15_000,
    );
    const lines = bot.output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    const channelOf = new Map<string, string>();
    for (const line of lines) {
      const { requestId, channelId } = line.properties ?? {};
      if (requestId === undefined || channelId === undefined) continue;
      assert.equal(channelOf.get(requestId) ?? channelId, channelId, JSON.stringify(line));
      channelOf.set(requestId, channelId);
    }
    const countdowns = lines.filter((l) => /Countdown posted/.test(l.message));
    assert.deepEqual(countdowns.map((l) => l.properties.channelId).sort(), channels);
    assert.equal(new Set(countdowns.map((l) => l.properties.requestId)).size, 2);
  } finally {
    await world.close();
  }
});
