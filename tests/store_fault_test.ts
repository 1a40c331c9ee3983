/**
 * A store that cannot write, end to end: the real bot process (`deno run -P=bot main.ts`) with its
 * DATA_DIR on a small tmpfs that the test fills, frees, or mounts read-only. Root ignores file
 * modes, so a chmod proves nothing here; a full or read-only filesystem refuses root too, and
 * SQLite answers with its own "database or disk is full". Mounting needs root with CAP_SYS_ADMIN;
 * where it is refused, these tests are skipped and say why.
 */
import assert from "node:assert/strict";
import { text } from "../lib/text/strings_ko.ts";
import { BotProcess, delay, ROOT, turns, until, World } from "./harness.ts";

const GUILD = "1300000000000000021";
const CHANNEL = "1200000000000000021";
/** Enough room that the per-user rate limit never gets in the way. */
const ENV = { USER_RATE_LIMIT: "1000" };

/** Runs `mount` or `umount`; throws with its own message when it fails. */
async function run(command: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Mounts a tmpfs of `size` on `dir` (absolute), `ro` for a read-only one. */
function mountTmpfs(dir: string, size: string, mode: "rw" | "ro" = "rw"): Promise<void> {
  return run("mount", ["-t", "tmpfs", "-o", `${mode},size=${size}`, "tmpfs", dir]);
}

/** Unmounts `dir`, lazily if a process still holds a file there. */
async function unmount(dir: string): Promise<void> {
  await run("umount", [dir]).catch(() => run("umount", ["-l", dir]));
}

/** Why a tmpfs can't be mounted here, or undefined when it can. */
async function tmpfsRefusal(): Promise<string | undefined> {
  const dir = `${ROOT}data/tmpfs-probe-${crypto.randomUUID()}`;
  await Deno.mkdir(dir, { recursive: true });
  try {
    await mountTmpfs(dir, "64k");
    await unmount(dir);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await Deno.remove(dir).catch(() => {});
  }
}

const refusal = await tmpfsRefusal();
if (refusal) {
  console.warn(`store fault tests skipped: they need to mount a tmpfs (root) (${refusal})`);
}

/** Writes to `path` until the filesystem has no byte left. */
async function fill(path: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true });
  try {
    for (const size of [1 << 16, 512, 1]) {
      const chunk = new Uint8Array(size);
      try {
        while (true) await file.write(chunk);
      } catch (error) {
        if (!(error instanceof Error) || !/No space left/i.test(error.message)) throw error;
      }
    }
  } finally {
    file.close();
  }
}

/** Starts the bot with the endpoints on an ephemeral port; returns it and the base URL. */
async function startWithHttp(world: World): Promise<{ bot: BotProcess; base: string }> {
  const bot = await world.startBot({ ...ENV, HTTP_PORT: "0" });
  const pattern = /Operations endpoints on http:\/\/([\d.]+):(\d+)\//;
  await bot.waitForOutput(pattern);
  const [, host, port] = bot.output.match(pattern)!;
  return { bot, base: `http://${host}:${port}` };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

/** Polls `url` until it answers `status`; returns the last answer. */
async function untilStatus(url: string, status: number, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let answer = await get(url);
  while (answer.status !== status && Date.now() < deadline) {
    await delay(200);
    answer = await get(url);
  }
  assert.equal(answer.status, status, answer.body);
  return answer;
}

/** The value of one unlabelled sample of a Prometheus exposition. */
function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function say(world: World, content: string) {
  return await world.mention(CHANNEL, GUILD, content);
}

/** The ids of the messages the bot answered with the "not being saved" notice. */
function unsavedNoticesIn(world: World): (string | undefined)[] {
  return world.discord.messagesIn(CHANNEL)
    .filter((m) => m.author.bot && m.content === text.unsaved)
    .map((m) => m.message_reference?.message_id);
}

Deno.test({
  name:
    "a full disk: answers go on with a notice, /readyz is 503 naming the store, and the held exchanges reach the disk once space frees",
  ignore: refusal !== undefined,
  async fn() {
    const world = await World.create();
    const dir = `${ROOT}${world.dataDir}`;
    await mountTmpfs(dir, "8m");
    try {
      const { bot, base } = await startWithHttp(world);
      world.gemini.reply("첫 대답.");
      await say(world, "첫 질문");
      await until(() => world.botMessages(CHANNEL).includes("첫 대답."), "the first answer");
      await untilStatus(`${base}/readyz`, 200);

      await fill(`${dir}/filler`);
      world.gemini.reply("꽉 찬 디스크에서 한 대답.");
      const during = await say(world, "두 번째 질문");
      await until(() => unsavedNoticesIn(world).length === 1, "the unsaved notice");
      // The answer was shown, and the notice replies to the message whose answer is unsaved.
      assert.ok(world.botMessages(CHANNEL).includes("꽉 찬 디스크에서 한 대답."));
      assert.deepEqual(unsavedNoticesIn(world), [during.id]);
      // The log reaches the test through a pipe, the notice through HTTP: on a loaded machine
      // either may come first, so the line is waited for, not looked for at once.
      const refusedWrite = /"level":"ERROR".*database or disk is full/;
      await bot.waitForOutput(refusedWrite);
      const errorLine = bot.output.split("\n").find((line) => refusedWrite.test(line));
      assert.ok(errorLine, `no ERROR line with SQLite's message:\n${bot.output}`);
      assert.match(errorLine, new RegExp(CHANNEL));
      assert.doesNotMatch(bot.output, /cannot rollback/);

      const notReady = await untilStatus(`${base}/readyz`, 503);
      assert.match(notReady.body, /^not ready\ngateway: ok\nstore: down\n$/);
      const metrics = (await get(`${base}/metrics`)).body;
      assert.equal(sample(metrics, "soyebot_store_writable"), 0);
      assert.equal(sample(metrics, "soyebot_store_pending_writes"), 1);
      assert.ok(sample(metrics, "soyebot_store_write_failures_total")! >= 1);

      // The conversation goes on from memory, and the channel is not told twice.
      world.gemini.reply("세 번째 대답.");
      await say(world, "세 번째 질문");
      await until(() => world.botMessages(CHANNEL).includes("세 번째 대답."), "the third answer");
      assert.deepEqual(turns(world.generateRequests()[2]).map(([, t]) => t), [
        "민수: 첫 질문",
        "첫 대답.",
        "민수: 두 번째 질문",
        "꽉 찬 디스크에서 한 대답.",
        "민수: 세 번째 질문",
      ]);
      assert.equal(unsavedNoticesIn(world).length, 1);

      await Deno.remove(`${dir}/filler`);
      await untilStatus(`${base}/readyz`, 200);
      const recovered = (await get(`${base}/metrics`)).body;
      assert.equal(sample(recovered, "soyebot_store_writable"), 1);
      assert.equal(sample(recovered, "soyebot_store_pending_writes"), 0);
      await bot.waitForOutput(/Store writes again: 2 held writes saved/);

      // SIGKILL: what a new process remembers was written by the retry, not by a clean stop.
      await bot.stop("SIGKILL");
      await world.startBot(ENV);
      world.gemini.reply("기억하지.");
      await say(world, "기억나?");
      await until(() => world.generateRequests().length === 4, "the Gemini call after restart");
      assert.deepEqual(turns(world.generateRequests()[3]).map(([, t]) => t), [
        "민수: 첫 질문",
        "첫 대답.",
        "민수: 두 번째 질문",
        "꽉 찬 디스크에서 한 대답.",
        "민수: 세 번째 질문",
        "세 번째 대답.",
        "민수: 기억나?",
      ]);
      assert.deepEqual(world.discord.invalidRequests, []);
    } finally {
      await world.close({ keepData: true });
      await unmount(dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Starts the bot on `world` and expects it to stop at once with exit code 2 naming DATA_DIR. */
async function expectDataDirRefused(world: World): Promise<void> {
  const bot = new BotProcess(world.env(ENV));
  const status = await bot.exited;
  assert.equal(status.code, 2, bot.output);
  // One line of its own, whatever Deno prints around it (its config-permissions warning).
  const lines = bot.output.split("\n").filter((line) => line.startsWith("soyebot"));
  assert.equal(lines.length, 1, bot.output);
  assert.match(
    lines[0],
    /^soyebot: configuration error: DATA_DIR must be a directory where the bot can create and write .*soyebot\.db/,
  );
}

Deno.test({
  name:
    "a read-only DATA_DIR stops the start with exit code 2 naming it, with or without a database",
  ignore: refusal !== undefined,
  async fn() {
    const world = await World.create();
    const dir = `${ROOT}${world.dataDir}`;
    try {
      // Empty and read-only: the database can't even be created.
      await mountTmpfs(dir, "1m", "ro");
      await expectDataDirRefused(world);
      await unmount(dir);

      // A database written before, then the filesystem remounted read-only.
      await mountTmpfs(dir, "4m");
      const first = await world.startBot(ENV);
      world.gemini.reply("저장된 대답.");
      await say(world, "저장해줘");
      await until(() => world.botMessages(CHANNEL).includes("저장된 대답."), "the answer");
      assert.equal((await first.stop("SIGTERM")).code, 0);
      await run("mount", ["-o", "remount,ro", dir]);
      await expectDataDirRefused(world);
    } finally {
      await world.close({ keepData: true });
      await unmount(dir).catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
