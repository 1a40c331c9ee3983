/**
 * Attachments and reply context, end to end: the real bot process against the fake Discord (which
 * serves attachment bytes from a CDN route on its own host and holds every REST request against
 * Discord's OpenAPI spec) and the fake Gemini (which takes the SDK's Files API uploads and shows
 * its responder the files each request carries).
 *
 * One World and one bot serve every step; each step has its own channel and its own users.
 */
import assert from "node:assert/strict";
import { until, World } from "./harness.ts";
import type { GenerateRequest, RecordedRequest as GeminiRequest } from "./fakes/fake_gemini.ts";
import type { FakeAttachmentOptions } from "./fakes/fake_discord.ts";
import { attachmentText } from "../lib/text/strings_ko.ts";

const GUILD = "1300000000000000001";
const FAST = { GEMINI_RPM: "1000", GEMINI_RPD: "100000" };
/** Small limits, so the test's files cross them: inline up to 1000 bytes, 5000 a file. */
const LIMITS = {
  ATTACHMENT_INLINE_MAX_BYTES: "1000",
  ATTACHMENT_MAX_BYTES: "5000",
  ATTACHMENT_MAX_TOTAL_BYTES: "8000",
  ATTACHMENT_FETCH_TIMEOUT_SECONDS: "1",
};

const encode = (text: string) => new TextEncoder().encode(text);
const CAT_PNG = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, ...encode("a black cat")]);
const PDF = encode(`%PDF-1.4\n${"회의록: 다음 주 화요일에 배포한다. ".repeat(60)}\n%%EOF`);
const CODE = "export const answer = 42;\n";

let nextId = 0n;
function freshId(): string {
  return String(1400000000000000000n + ++nextId);
}

/** Answers what it was shown: the test's picture, a PDF, else an echo of the words. */
function responder(request: GenerateRequest): string {
  const [file] = request.attachments;
  if (file?.mimeType === "image/png" && String(file.bytes) === String(CAT_PNG)) {
    return "고양이 사진이네! 까만 고양이가 있어.";
  }
  if (file?.mimeType === "application/pdf") {
    const text = new TextDecoder().decode(file.bytes);
    return `PDF 요약 (${file.via}): ${text.includes("화요일에 배포") ? "화요일 배포" : "?"}`;
  }
  return `응, "${request.lastUserText}" 말이지.`;
}

function generateRequests(world: World): GeminiRequest[] {
  return world.gemini.requests.filter((r) => r.action === "streamGenerateContent");
}

type Parts = { text?: string; inlineData?: { data: string }; fileData?: { fileUri: string } }[];

/** The parts of a request's last user turn. */
function lastUserParts(request: GeminiRequest): Parts {
  const contents = request.body.contents as { role: string; parts: Parts }[];
  return contents.findLast((c) => c.role === "user")!.parts;
}

function botMessages(world: World, channelId: string): string[] {
  return world.discord.messagesIn(channelId)
    .filter((m) => m.author.id === world.discord.botId && !m.deleted)
    .map((m) => m.content);
}

/** Waits for the bot's `count`-th message in `channelId` and returns it. */
async function answer(world: World, channelId: string, count = 1): Promise<string> {
  await until(() => botMessages(world, channelId).length >= count, `answer in ${channelId}`);
  // A streamed answer grows by edits; wait until its request settles.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return botMessages(world, channelId)[count - 1];
}

function send(
  world: World,
  channelId: string,
  content: string,
  extra: {
    attachments?: FakeAttachmentOptions[];
    replyToMessageId?: string;
    omitReferencedMessage?: boolean;
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

Deno.test("attachments and reply context, through the real bot", async (t) => {
  const world = await World.create({ gemini: { responder } });
  try {
    await world.startBot({ ...FAST, ...LIMITS });

    await t.step(
      "a picture with a mention goes inline; the window keeps its note, not its bytes",
      async () => {
        const channel = freshId();
        await send(world, channel, "이거 뭐야?", {
          attachments: [{ filename: "cat.png", contentType: "image/png", bytes: CAT_PNG }],
        });
        assert.equal(await answer(world, channel), "고양이 사진이네! 까만 고양이가 있어.");
        const [first] = generateRequests(world).filter((r) =>
          JSON.stringify(r.body).includes("cat.png")
        );
        const parts = lastUserParts(first);
        assert.equal(parts[0].text, "민수: 이거 뭐야? [첨부: cat.png (image/png)]");
        assert.deepEqual(parts.slice(1), [
          { text: "[파일 cat.png]" },
          { inlineData: { mimeType: "image/png", data: btoa(String.fromCharCode(...CAT_PNG)) } },
        ]);

        await send(world, channel, "아까 그거 기억나?");
        await answer(world, channel, 2);
        const next = generateRequests(world).at(-1)!;
        const body = JSON.stringify(next.body.contents);
        assert.ok(body.includes("[첨부: cat.png (image/png)]"), "the note stays in the window");
        assert.ok(!body.includes("inlineData"), "the bytes do not");
      },
    );

    await t.step(
      "a PDF above the inline limit goes through the Files API and is deleted",
      async () => {
        const channel = freshId();
        const uploadsBefore = world.gemini.files.length;
        await send(world, channel, "요약해줘", {
          attachments: [{ filename: "회의록.pdf", contentType: "application/pdf", bytes: PDF }],
        });
        assert.equal(await answer(world, channel), "PDF 요약 (file): 화요일 배포");
        const uploaded = world.gemini.files.slice(uploadsBefore);
        assert.equal(uploaded.length, 1);
        assert.deepEqual(uploaded[0].bytes, PDF);
        assert.equal(uploaded[0].mimeType, "application/pdf");
        const request = generateRequests(world).findLast((r) =>
          JSON.stringify(r.body).includes(uploaded[0].uri)
        )!;
        assert.ok(lastUserParts(request).some((p) => p.fileData?.fileUri === uploaded[0].uri));
        assert.ok(!JSON.stringify(request.body).includes("inlineData"));
        await until(() => uploaded[0].deleted, "the upload deleted after the call");
      },
    );

    await t.step("a code file is read as text, whatever type Discord guessed", async () => {
      const channel = freshId();
      await send(world, channel, "이 코드 봐줘", {
        attachments: [{ filename: "main.ts", contentType: "video/mp2t", bytes: encode(CODE) }],
      });
      const text = await answer(world, channel);
      assert.ok(text.includes("export const answer = 42;"), text);
      const request = generateRequests(world).at(-1)!;
      assert.deepEqual(lastUserParts(request), [
        { text: "민수: 이 코드 봐줘 [첨부: main.ts (text/plain)]" },
        { text: `[파일 main.ts]\n${CODE}` },
      ]);
    });

    await t.step(
      "an unsupported or oversized file is refused by name, with no Gemini call",
      async () => {
        const channel = freshId();
        const before = generateRequests(world).length;
        await send(world, channel, "이거 실행해봐", {
          attachments: [{
            filename: "setup.exe",
            contentType: "application/x-msdownload",
            bytes: encode("MZ"),
          }],
        });
        assert.equal(
          await answer(world, channel),
          attachmentText.refused({ kind: "unsupported", filename: "setup.exe" }, "setup.exe"),
        );
        await send(world, channel, "이것도", {
          attachments: [{
            filename: "big.pdf",
            contentType: "application/pdf",
            bytes: PDF,
            size: 6000,
          }],
        });
        assert.equal(
          await answer(world, channel, 2),
          attachmentText.refused(
            { kind: "too_large", filename: "big.pdf", maxBytes: 5000 },
            "big.pdf",
          ),
        );
        assert.equal(generateRequests(world).length, before);
        assert.ok(
          !world.discord.cdnRequests.some((r) => r.path.includes("big.pdf")),
          "not fetched",
        );
      },
    );

    await t.step(
      "a reply to someone else's message carries its author, text and files",
      async () => {
        const channel = freshId();
        const theirs = await send(world, channel, "내일 비 온대. 이 지도 봐", {
          mentionsBot: false,
          username: "철수",
          attachments: [{ filename: "cat.png", contentType: "image/png", bytes: CAT_PNG }],
        });
        await send(world, channel, "진짜야?", { replyToMessageId: theirs.id });
        await answer(world, channel);
        const request = generateRequests(world).at(-1)!;
        const parts = lastUserParts(request);
        assert.equal(
          parts[0].text,
          '[철수의 메시지에 답장: "내일 비 온대. 이 지도 봐" [첨부: cat.png (image/png)]]\n민수: 진짜야?',
        );
        assert.ok(parts.some((p) => p.inlineData), "the replied-to picture is shown too");
      },
    );

    await t.step("a reply Discord sent without referenced_message is fetched", async () => {
      const channel = freshId();
      const theirs = await send(world, channel, "점심 뭐 먹지", {
        mentionsBot: false,
        username: "영희",
      });
      await send(world, channel, "추천해줘", {
        replyToMessageId: theirs.id,
        omitReferencedMessage: true,
      });
      const text = await answer(world, channel);
      assert.ok(text.includes("점심 뭐 먹지"), `the answer saw the message replied to: ${text}`);
      const fetched = world.discord.requestsTo(
        "GET",
        new RegExp(`^/channels/${channel}/messages/${theirs.id}$`),
      );
      assert.deepEqual(fetched.map((r) => r.status), [200]);
      assert.ok(lastUserParts(generateRequests(world).at(-1)!)[0].text!.startsWith(
        '[영희의 메시지에 답장: "점심 뭐 먹지"]',
      ));
      assert.deepEqual(world.discord.invalidRequests.map((r) => r.errors), []);
    });

    await t.step(
      "a CDN that never answers times out, the user is told, and nothing else waits",
      async () => {
        const channel = freshId();
        const before = generateRequests(world).length;
        await send(world, channel, "이거 봐", {
          attachments: [{
            filename: "slow.png",
            contentType: "image/png",
            bytes: CAT_PNG,
            stall: true,
          }],
        });
        // The same channel's next message is answered while the download still hangs.
        await send(world, channel, "그동안 안녕");
        assert.equal(await answer(world, channel), '응, "민수: 그동안 안녕" 말이지.');
        assert.equal(await answer(world, channel, 2), attachmentText.fetchTimedOut("slow.png"));
        assert.equal(
          generateRequests(world).length,
          before + 1,
          "no Gemini call for the stalled one",
        );
      },
    );
  } finally {
    await world.close();
  }
});
