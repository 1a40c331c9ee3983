import assert from "node:assert/strict";
import type { FetchedAttachment } from "../attachments/fetch.ts";
import type { Attachment } from "../attachments/plan.ts";
import type { ChatMessage, ReferencedMessage } from "../discord/adapter.ts";
import { log } from "../log.ts";
import { AttachmentBudget } from "../attachments/budget.ts";
import { gifToPng } from "../attachments/gif_frame.ts";
import { attachmentText, text } from "../text/strings_ko.ts";
import {
  type GatherDeps,
  gatherTurnInput,
  REPLY_QUOTE_MAX_CHARS,
  turnFailureText,
} from "./turn_input.ts";

const MESSAGE: ChatMessage = {
  id: "100000000000000001",
  channelId: "200000000000000002",
  guildId: "300000000000000003",
  content: "<@9> 이거 봐",
  authorId: "400000000000000004",
  authorName: "민수",
  authorIsBot: false,
  type: 0,
  mentionedUserIds: ["9"],
  mentionedRoleIds: [],
  mentionsEveryone: false,
};
const file = (filename: string, contentType: string, size = 3): Attachment => ({
  id: "1800000000000000001",
  filename,
  contentType,
  size,
  url: `https://cdn.discordapp.com/attachments/2/1/${filename}`,
});
/** A PNG's signature: enough for the check that a `.png` is one. */
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_BASE64 = "iVBORw0KGgo=";
const CHULSOO: ReferencedMessage = {
  id: "100000000000000000",
  authorId: "400000000000000005",
  authorName: "철수",
  content: "내일 비 온대",
  attachments: [],
};

function deps(overrides: Partial<GatherDeps> = {}) {
  const fetched: string[] = [];
  const looked: string[] = [];
  const gather: GatherDeps = {
    discord: {
      getMessage: (_channel, id) => (looked.push(id), Promise.resolve(CHULSOO)),
    },
    limits: { maxCount: 4, maxBytes: 100, maxTotalBytes: 200 },
    fetch: (url): Promise<FetchedAttachment> => {
      fetched.push(url);
      const bytes = url.endsWith(".png") ? PNG : new TextEncoder().encode("abc");
      return Promise.resolve({ ok: true, bytes });
    },
    timeoutMs: 1000,
    logger: log,
    budget: new AttachmentBudget(1000),
    gifToPng: (gif) => Promise.resolve(gifToPng(gif)),
    ...overrides,
  };
  return { gather, fetched, looked };
}

Deno.test("gatherTurnInput keeps a note of each file in the line and its bytes in the parts", async () => {
  const { gather } = deps();
  const message = {
    ...MESSAGE,
    attachments: [file("cat.png", "image/png"), file("a.txt", "text/plain")],
  };
  const gathered = await gatherTurnInput(message, "민수: 이거 봐", gather);
  assert.ok(gathered.ok);
  assert.equal(
    gathered.input.line,
    "민수: 이거 봐 [첨부: cat.png (image/png)] [첨부: a.txt (text/plain)]",
  );
  assert.deepEqual(gathered.input.parts, [
    { text: "[파일 cat.png]" },
    { inlineData: { mimeType: "image/png", data: PNG_BASE64 } },
    { text: "[파일 a.txt]\nabc" },
  ]);
  assert.deepEqual(gathered.input.files, ["cat.png", "a.txt"]);
});

Deno.test("gatherTurnInput refuses a file by name before fetching anything", async () => {
  const { gather, fetched } = deps();
  const message = {
    ...MESSAGE,
    attachments: [file("cat.png", "image/png"), file("x.zip", "application/zip")],
  };
  const gathered = await gatherTurnInput(message, "민수: 이거 봐", gather);
  assert.deepEqual(gathered, {
    ok: false,
    text: attachmentText.refused({ kind: "unsupported", filename: "x.zip" }, "x.zip"),
  });
  assert.deepEqual(fetched, []);
});

Deno.test("gatherTurnInput names the file the CDN did not give in time", async () => {
  const { gather } = deps({ fetch: () => Promise.resolve({ ok: false, reason: "timeout" }) });
  const message = { ...MESSAGE, attachments: [file("cat.png", "image/png")] };
  assert.deepEqual(await gatherTurnInput(message, "민수: 이거 봐", gather), {
    ok: false,
    text: attachmentText.fetchTimedOut("cat.png"),
  });
});

Deno.test("gatherTurnInput quotes the message replied to, with its files, under the same rules", async () => {
  const { gather, looked } = deps();
  const replyTo = { ...CHULSOO, attachments: [file("map.png", "image/png")] };
  const gathered = await gatherTurnInput({ ...MESSAGE, replyTo }, "민수: 어때?", gather);
  assert.ok(gathered.ok);
  assert.equal(
    gathered.input.line,
    '[철수의 메시지에 답장: "내일 비 온대" [첨부: map.png (image/png)]]\n민수: 어때?',
  );
  assert.equal(gathered.input.parts.length, 2);
  assert.deepEqual(looked, [], "an embedded reply is not fetched again");
});

Deno.test("gatherTurnInput answers a reply to 5 files and a video, leaving out what cannot go", async () => {
  const { gather, fetched } = deps();
  const photos = [1, 2, 3, 4, 5].map((n) => file(`p${n}.png`, "image/png", 1));
  const replyTo = { ...CHULSOO, attachments: [file("clip.mp4", "video/mp4"), ...photos] };
  const gathered = await gatherTurnInput({ ...MESSAGE, replyTo }, "민수: 어때?", gather);
  assert.ok(gathered.ok, "the replier's question is answered");
  assert.equal(fetched.length, 4, "the limit of 4 files still holds");
  assert.equal(
    gathered.input.line,
    '[철수의 메시지에 답장: "내일 비 온대" [첨부: p1.png (image/png)] [첨부: p2.png (image/png)] ' +
      "[첨부: p3.png (image/png)] [첨부: p4.png (image/png)] [첨부: clip.mp4 (보이지 않음)] " +
      "[첨부: p5.png (보이지 않음)]]\n민수: 어때?",
  );
});

Deno.test("gatherTurnInput leaves out a replied-to file that is not what it says, but refuses the own", async () => {
  const { gather } = deps();
  const replyTo = { ...CHULSOO, attachments: [file("fake.pdf", "application/pdf")] };
  const gathered = await gatherTurnInput({ ...MESSAGE, replyTo }, "민수: 어때?", gather);
  assert.ok(gathered.ok);
  assert.ok(gathered.input.line.includes("[첨부: fake.pdf (보이지 않음)]"));
  const own = await gatherTurnInput(
    { ...MESSAGE, attachments: [file("fake.pdf", "application/pdf")] },
    "민수: 어때?",
    gather,
  );
  assert.deepEqual(own, { ok: false, text: attachmentText.notWhatItSays("fake.pdf") });
});

Deno.test("gatherTurnInput holds the files' declared bytes in the budget until released", async () => {
  const budget = new AttachmentBudget(10);
  const { gather, fetched } = deps({ budget, timeoutMs: 0 });
  const message = { ...MESSAGE, attachments: [file("a.txt", "text/plain", 8)] };
  const first = await gatherTurnInput(message, "민수: 봐", gather);
  assert.ok(first.ok);
  assert.equal(budget.held, 8);
  const second = await gatherTurnInput(message, "민수: 봐", gather);
  assert.deepEqual(second, { ok: false, text: attachmentText.busy });
  assert.equal(fetched.length, 1, "nothing fetched without room");
  first.input.release!();
  assert.equal(budget.held, 0);
});

Deno.test("gatherTurnInput fetches each file only up to the size Discord declared", async () => {
  const asked: number[] = [];
  const { gather } = deps({
    fetch: (
      _url,
      maxBytes,
    ) => (asked.push(maxBytes), Promise.resolve({ ok: false, reason: "too_large" })),
  });
  const message = { ...MESSAGE, attachments: [file("a.txt", "text/plain", 7)] };
  const gathered = await gatherTurnInput(message, "민수: 봐", gather);
  assert.deepEqual(asked, [7]);
  assert.deepEqual(gathered, { ok: false, text: attachmentText.largerThanSaid("a.txt") });
});

Deno.test("turnFailureText names the file for a refused upload or a 400 with files, not the config", () => {
  assert.equal(
    turnFailureText({ ok: false, reason: "rejected", status: 403, file: true }, ["a.pdf"]),
    attachmentText.notSent("a.pdf"),
  );
  assert.equal(
    turnFailureText({ ok: false, reason: "rejected", status: 400 }, ["a.png", "b.png"]),
    attachmentText.notSent(undefined),
  );
  assert.equal(turnFailureText({ ok: false, reason: "rejected", status: 400 }, []), text.rejected);
});

Deno.test("gatherTurnInput fetches a reply Discord left out, and goes on without it on failure", async () => {
  const { gather, looked } = deps();
  const replyReference = { channelId: MESSAGE.channelId, messageId: CHULSOO.id };
  const fetched = await gatherTurnInput({ ...MESSAGE, replyReference }, "민수: 진짜?", gather);
  assert.deepEqual(looked, [CHULSOO.id]);
  assert.ok(fetched.ok);
  assert.equal(fetched.input.line, '[철수의 메시지에 답장: "내일 비 온대"]\n민수: 진짜?');

  const failing = deps({ discord: { getMessage: () => Promise.reject(new Error("404")) } });
  const without = await gatherTurnInput(
    { ...MESSAGE, replyReference },
    "민수: 진짜?",
    failing.gather,
  );
  assert.deepEqual(without, { ok: true, input: { line: "민수: 진짜?", parts: [] } });

  const hanging = deps({ discord: { getMessage: () => new Promise(() => {}) }, timeoutMs: 20 });
  const late = await gatherTurnInput({ ...MESSAGE, replyReference }, "민수: 진짜?", hanging.gather);
  assert.deepEqual(late, { ok: true, input: { line: "민수: 진짜?", parts: [] } });
});

Deno.test("gatherTurnInput keeps a long reply short in the line and whole in the parts", async () => {
  const { gather } = deps();
  const long = "비".repeat(REPLY_QUOTE_MAX_CHARS + 50);
  const gathered = await gatherTurnInput(
    { ...MESSAGE, replyTo: { ...CHULSOO, content: long } },
    "민수: 요약해줘",
    gather,
  );
  assert.ok(gathered.ok);
  assert.ok(gathered.input.line.includes(`"${"비".repeat(REPLY_QUOTE_MAX_CHARS)}…"`));
  assert.deepEqual(gathered.input.parts, [{ text: `[답장한 철수의 메시지 전문]\n${long}` }]);
});
