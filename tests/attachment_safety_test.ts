/**
 * Attachments that try to break the bot (issue 17's red team), end to end: the real bot process
 * against the fake Discord (its CDN route serves the files) and the fake Gemini (which can refuse
 * uploads or answer 400). Each finding has its step; each step its own channel and users.
 */
import assert from "node:assert/strict";
import { type BotProcess, delay, until, World } from "./harness.ts";
import type { GenerateRequest, RecordedRequest as GeminiRequest } from "./fakes/fake_gemini.ts";
import type { FakeAttachmentOptions } from "./fakes/fake_discord.ts";
import { GIF_MAX_PIXELS } from "../lib/attachments/gif_frame.ts";
import { attachmentText } from "../lib/text/strings_ko.ts";

const GUILD = "1300000000000000001";
/** Small limits, so the test's files cross them. */
const LIMITS = {
  ATTACHMENT_INLINE_MAX_BYTES: "1000",
  ATTACHMENT_MAX_BYTES: "5000",
  ATTACHMENT_MAX_TOTAL_BYTES: "8000",
  ATTACHMENT_BUDGET_BYTES: "8000",
  ATTACHMENT_FETCH_TIMEOUT_SECONDS: "1",
};

const encode = (text: string) => new TextEncoder().encode(text);
const PNG = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, ...encode("a black cat")]);
const PDF = encode(`%PDF-1.4\n${"회의록: 다음 주 화요일에 배포한다. ".repeat(60)}\n%%EOF`);
const SEEN_PNG = "그림 봤어.";

let nextId = 0n;
function freshId(): string {
  return String(1500000000000000000n + ++nextId);
}

/** Says it saw a picture when the request carries one, else echoes the words. */
function responder(request: GenerateRequest): string {
  if (request.attachments.some((file) => file.mimeType === "image/png")) return SEEN_PNG;
  return `응, "${request.lastUserText}" 말이지.`;
}

function generateRequests(world: World): GeminiRequest[] {
  return world.gemini.requests.filter((r) => r.action === "streamGenerateContent");
}

function botMessages(world: World, channelId: string): string[] {
  return world.discord.messagesIn(channelId)
    .filter((m) => m.author.id === world.discord.botId && !m.deleted)
    .map((m) => m.content);
}

/** Waits for the bot's `count`-th message in `channelId` and returns it, settled. */
async function answer(world: World, channelId: string, count = 1): Promise<string> {
  await until(
    () => botMessages(world, channelId).length >= count,
    `answer in ${channelId}`,
    20_000,
  );
  // A streamed answer grows by edits; wait until its request settles.
  await delay(300);
  return botMessages(world, channelId)[count - 1];
}

function send(
  world: World,
  channelId: string,
  content: string,
  extra: {
    attachments?: FakeAttachmentOptions[];
    replyToMessageId?: string;
    mentionsBot?: boolean;
    username?: string;
  } = {},
) {
  return world.discord.sendUserMessage({
    channelId,
    guildId: GUILD,
    content,
    authorId: freshId(),
    username: extra.username ?? "민수",
    mentionsBot: extra.mentionsBot ?? true,
    ...extra,
  });
}

/**
 * A GIF whose canvas and first frame are declared `canvas` and `frame` pixels, with LZW data
 * that only clears and ends: tiny on the wire, as much work as its header claims to decode.
 */
function declaredGif(canvas: [number, number], frame: [number, number]): Uint8Array {
  const u16 = (n: number) => [n & 0xff, n >> 8];
  const gif = [...encode("GIF89a"), ...u16(canvas[0]), ...u16(canvas[1]), 0, 0, 0];
  gif.push(0x2c, 0, 0, 0, 0, ...u16(frame[0]), ...u16(frame[1]), 0);
  gif.push(2, 1, 0b101100, 0, 0x3b); // min code size 2: clear (4), end (5)
  return new Uint8Array(gif);
}

/** Polls `/healthz` until stopped; the slowest answer, in ms (Infinity once it cannot connect). */
function watchHealth(base: string): { stop(): Promise<number> } {
  let running = true;
  let slowest = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(`${base}/healthz`);
        await response.body?.cancel();
        slowest = Math.max(slowest, performance.now() - started);
      } catch {
        slowest = Infinity; // the process is gone
        running = false;
      }
      await delay(25);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return slowest;
    },
  };
}

async function opsBase(bot: BotProcess): Promise<string> {
  const pattern = /Operations endpoints on http:\/\/([\d.]+):(\d+)\//;
  await bot.waitForOutput(pattern);
  const [, host, port] = bot.output.match(pattern)!;
  return `http://${host}:${port}`;
}

Deno.test("a GIF bomb is refused with a short reply while /healthz and other channels keep answering", async () => {
  const world = await World.create({ gemini: { responder } });
  try {
    const bot = await world.startBot({ HTTP_PORT: "0" });
    const health = watchHealth(await opsBase(bot));
    const [bombChannel, capChannel, plainChannel] = [freshId(), freshId(), freshId()];
    // The red team's bomb: a 1×1 canvas with a 65535×33000 first frame.
    await send(world, bombChannel, "이거 봐", {
      attachments: [{
        filename: "bomb.gif",
        contentType: "image/gif",
        bytes: declaredGif([1, 1], [65535, 33000]),
      }],
    });
    // And four GIFs at exactly the pixel cap: legitimate, and real work to convert.
    const side = GIF_MAX_PIXELS / 2048;
    await send(world, capChannel, "이것들도", {
      attachments: [1, 2, 3, 4].map((n) => ({
        filename: `cap${n}.gif`,
        contentType: "image/gif",
        bytes: declaredGif([2048, side], [2048, side]),
      })),
    });
    await send(world, plainChannel, "다른 채널에서 안녕");
    const answers = await Promise.all(
      [plainChannel, bombChannel, capChannel].map((channel) => answer(world, channel)),
    );
    const slowest = await health.stop();
    // Decoding on the event loop stalled it for seconds (8–9 s for the bomb); off it, /healthz
    // answers as it does at rest. The bound is loose for a loaded machine, far under the stall.
    assert.ok(slowest < 2000, `/healthz took ${Math.round(slowest)} ms at worst`);
    assert.deepEqual(answers, [
      '응, "민수: 다른 채널에서 안녕" 말이지.',
      attachmentText.imageTooLarge("bomb.gif"),
      SEEN_PNG,
    ]);
  } finally {
    await world.close();
  }
});

Deno.test("attachments that break the rules are told as the file's fault, through the real bot", async (t) => {
  const world = await World.create({ gemini: { responder } });
  try {
    await world.startBot(LIMITS);

    await t.step(
      "files really larger than Discord declared are cut off, not fetched and uploaded",
      async () => {
        const channel = freshId();
        const before = generateRequests(world).length;
        const big = encode("x".repeat(3000));
        await send(world, channel, "이거 다 읽어줘", {
          attachments: [1, 2, 3, 4].map((n) => ({
            filename: `n${n}.txt`,
            contentType: "text/plain",
            bytes: big,
            size: 100,
          })),
        });
        assert.equal(await answer(world, channel), attachmentText.largerThanSaid("n1.txt"));
        assert.equal(generateRequests(world).length, before, "no Gemini call");
      },
    );

    await t.step(
      "a turn waits for room in the attachment budget and is told when none opens",
      async () => {
        const [holding, waiting] = [freshId(), freshId()];
        const before = generateRequests(world).length;
        // The first turn holds 7000 of the 8000 bytes while Gemini is slow to answer it.
        world.gemini.slowFirstByte(3000);
        await send(world, holding, "천천히 봐줘", {
          attachments: [
            { filename: "a.txt", contentType: "text/plain", bytes: encode("a".repeat(4000)) },
            { filename: "b.txt", contentType: "text/plain", bytes: encode("b".repeat(3000)) },
          ],
        });
        await until(() => generateRequests(world).length > before, "the first turn's call");
        const small = {
          filename: "c.txt",
          contentType: "text/plain",
          bytes: encode("c".repeat(2000)),
        };
        await send(world, waiting, "이것도", { attachments: [small] });
        assert.equal(await answer(world, waiting), attachmentText.busy);
        assert.ok(
          !world.discord.cdnRequests.some((r) => r.path.endsWith("/c.txt")),
          "nothing fetched without room",
        );
        await answer(world, holding);
        await send(world, waiting, "이제 봐줘", { attachments: [small] });
        const text = await answer(world, waiting, 2);
        assert.ok(text.startsWith('응, "민수: 이제 봐줘'), text);
      },
    );

    await t.step("an HTML page named photo.png is told by name, with no Gemini call", async () => {
      const channel = freshId();
      const before = generateRequests(world).length;
      await send(world, channel, "이 사진 봐", {
        attachments: [{
          filename: "photo.png",
          contentType: "image/png",
          bytes: encode("<!DOCTYPE html><html><body>Access denied</body></html>"),
        }],
      });
      assert.equal(await answer(world, channel), attachmentText.notWhatItSays("photo.png"));
      assert.equal(generateRequests(world).length, before);
    });

    await t.step(
      "Gemini's 400 on a file is told as the file's, not a configuration fault",
      async () => {
        const channel = freshId();
        world.gemini.failStatus(400, "Unable to process input image. Please retry or report.");
        await send(world, channel, "이 사진 봐", {
          attachments: [{ filename: "cat.png", contentType: "image/png", bytes: PNG }],
        });
        assert.equal(await answer(world, channel), attachmentText.notSent("cat.png"));
      },
    );

    await t.step(
      "a reply to someone else's message with 5 files and a video is answered without them",
      async () => {
        const channel = freshId();
        const theirs = await send(world, channel, "여행 사진들이야", {
          mentionsBot: false,
          username: "철수",
          attachments: [
            { filename: "clip.mp4", contentType: "video/mp4", bytes: encode("....ftypmp42") },
            ...[1, 2, 3, 4, 5].map((n) => ({
              filename: `p${n}.png`,
              contentType: "image/png",
              bytes: PNG,
            })),
          ],
        });
        await send(world, channel, "어디야?", { replyToMessageId: theirs.id });
        assert.equal(await answer(world, channel), SEEN_PNG);
        const request = generateRequests(world).at(-1)!;
        const sent = JSON.stringify(request.body.contents);
        assert.ok(
          sent.includes("[첨부: clip.mp4 (보이지 않음)]"),
          "the model is told of the video",
        );
        assert.equal(sent.match(/"inlineData"/g)?.length, 4, "four pictures, the limit");
      },
    );

    await t.step(
      "an attachment-only reply to the bot with a file from another host is told, as a mention is",
      async () => {
        // A URL that is not a web URL at all (the parse dropped it, so the reply was answered as
        // if it brought nothing, and the mention got "you called?"), and an https one elsewhere.
        for (const url of ["ftp://files.example.com/x.png", "https://files.example.com/x.png"]) {
          const channel = freshId();
          const evil = { filename: "x.png", contentType: "image/png", bytes: PNG, url };
          await send(world, channel, "", { attachments: [evil] });
          assert.equal(await answer(world, channel), attachmentText.notFromDiscord("x.png"), url);
          const botMessage = world.discord.messagesIn(channel).findLast((m) =>
            m.author.id === world.discord.botId
          )!;
          const before = generateRequests(world).length;
          await send(world, channel, "", {
            mentionsBot: false,
            replyToMessageId: botMessage.id,
            attachments: [evil],
          });
          assert.equal(
            await answer(world, channel, 2),
            attachmentText.notFromDiscord("x.png"),
            url,
          );
          assert.equal(generateRequests(world).length, before, `no Gemini call for ${url}`);
        }
      },
    );
    await t.step(
      "an upload refused with 403 is that file's failure, and the key keeps answering",
      async () => {
        // Last: before the fix, the refusal took the only key out of use for a minute.
        const channel = freshId();
        world.gemini.refuseUploads(1, 403);
        await send(world, channel, "요약해줘", {
          attachments: [{ filename: "회의록.pdf", contentType: "application/pdf", bytes: PDF }],
        });
        assert.equal(await answer(world, channel), attachmentText.notSent("회의록.pdf"));
        await send(world, channel, "그럼 그냥 안녕");
        assert.equal(await answer(world, channel, 2), '응, "민수: 그럼 그냥 안녕" 말이지.');
      },
    );
  } finally {
    await world.close();
  }
});
