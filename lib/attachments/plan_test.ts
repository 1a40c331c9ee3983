import assert from "node:assert/strict";
import {
  type Attachment,
  attachmentNote,
  attachmentParts,
  classifyAttachment,
  planAttachments,
  planTurnAttachments,
  TEXT_ATTACHMENT_MAX_CHARS,
} from "./plan.ts";

const file = (filename: string, contentType?: string, size = 10): Attachment => ({
  id: "1500000000000000001",
  filename,
  contentType,
  size,
  url: "https://cdn.discordapp.com/attachments/1/2/x",
});
const LIMITS = { maxCount: 2, maxBytes: 100, maxTotalBytes: 150 };

Deno.test("classifyAttachment reads media by type and code by extension", () => {
  const kinds = [
    file("cat.png", "image/png"),
    file("photo.JPG", "image/jpeg"),
    file("anim.gif", "image/gif"),
    file("doc.pdf", "application/pdf"),
    file("voice-message.ogg", "audio/ogg"),
    file("song.mp3", "audio/mpeg"),
    file("main.ts", "video/mp2t"), // Discord's guess for TypeScript
    file("notes.txt", "text/plain; charset=utf-8"),
    file("data.json", "application/json"),
    file("Dockerfile"),
    file("noext", "text/x-python"),
    file("photo.webp"), // no type: the extension decides
    file("clip.mp4", "video/mp4"),
    file("setup.exe", "application/x-msdownload"),
    file("archive.zip", "application/zip"),
  ].map((a) => classifyAttachment(a)?.mimeType ?? "none");
  assert.deepEqual(kinds, [
    "image/png",
    "image/jpeg",
    "image/gif",
    "application/pdf",
    "audio/ogg",
    "audio/mp3",
    "text/plain",
    "text/plain",
    "text/plain",
    "text/plain",
    "text/plain",
    "image/webp",
    "none",
    "none",
    "none",
  ]);
});

Deno.test("planAttachments names the first file past each limit", () => {
  const problem = (files: Attachment[]) => {
    const plan = planAttachments(files, LIMITS);
    return plan.ok ? "ok" : plan.problem;
  };
  assert.equal(problem([file("a.png", "image/png"), file("b.txt")]), "ok");
  assert.deepEqual(problem([file("a.png", "image/png"), file("b.txt"), file("c.txt")]), {
    kind: "count",
    filename: "c.txt",
    max: 2,
  });
  assert.deepEqual(problem([file("a.zip", "application/zip")]), {
    kind: "unsupported",
    filename: "a.zip",
  });
  assert.deepEqual(problem([file("big.pdf", "application/pdf", 101)]), {
    kind: "too_large",
    filename: "big.pdf",
    maxBytes: 100,
  });
  assert.deepEqual(
    problem([file("a.pdf", "application/pdf", 100), file("b.pdf", "application/pdf", 60)]),
    {
      kind: "total",
      filename: "b.pdf",
      maxTotalBytes: 150,
    },
  );
});

Deno.test("attachmentNote keeps the name and type only, made safe to show", () => {
  const plan = planAttachments([file("a`b\nc.png", "image/png", 5_000_000)], {
    ...LIMITS,
    maxBytes: 10_000_000,
    maxTotalBytes: 10_000_000,
  });
  assert.ok(plan.ok);
  assert.equal(attachmentNote(plan.planned[0]), "[첨부: a_b_c.png (image/png)]");
});

Deno.test("attachmentParts sends media inline as base64 and text files as text", () => {
  const plan = planAttachments(
    [file("cat.png", "image/png"), file("main.ts", "video/mp2t")],
    LIMITS,
  );
  assert.ok(plan.ok);
  const [image, code] = plan.planned;
  assert.deepEqual(attachmentParts(image, new Uint8Array([1, 2, 3])), [
    { text: "[파일 cat.png]" },
    { inlineData: { mimeType: "image/png", data: "AQID" } },
  ]);
  assert.deepEqual(attachmentParts(code, new TextEncoder().encode("const a = 1;")), [
    { text: "[파일 main.ts]\nconst a = 1;" },
  ]);
  assert.equal(attachmentParts(code, new Uint8Array([0xff, 0xfe, 0x00])), undefined, "not UTF-8");
  const long = "가".repeat(TEXT_ATTACHMENT_MAX_CHARS + 5);
  const [cut] = attachmentParts(code, new TextEncoder().encode(long))!;
  assert.ok("text" in cut && cut.text!.endsWith("…(이하 생략)"));
});

Deno.test("attachmentParts never decodes a GIF itself: it must come converted, as PNG", () => {
  const plan = planAttachments([file("anim.gif", "image/gif")], LIMITS);
  assert.ok(plan.ok);
  assert.equal(attachmentParts(plan.planned[0], new TextEncoder().encode("GIF89a....")), undefined);
});

Deno.test("planTurnAttachments drops the replied-to message's unsendable files and keeps the own", () => {
  const limits = { maxCount: 4, maxBytes: 100, maxTotalBytes: 250 };
  const video = file("clip.mp4", "video/mp4");
  const photos = [1, 2, 3, 4, 5].map((n) => file(`p${n}.png`, "image/png", 40));
  const big = file("big.pdf", "application/pdf", 101);
  const mine = file("mine.png", "image/png", 60);
  const plan = planTurnAttachments([video, big, ...photos], [mine], limits);
  assert.ok(plan.ok);
  assert.deepEqual(plan.own.map((f) => f.filename), ["mine.png"]);
  // Count: 3 left beside the own file; total: 60 + 3 × 40 = 180 fits 250.
  assert.deepEqual(plan.replied.map((f) => f.filename), ["p1.png", "p2.png", "p3.png"]);
  assert.deepEqual(plan.dropped.map((f) => f.filename), [
    "clip.mp4",
    "big.pdf",
    "p4.png",
    "p5.png",
  ]);
  const tight = planTurnAttachments(photos, [mine], { ...limits, maxTotalBytes: 150 });
  assert.ok(tight.ok);
  assert.deepEqual(tight.replied.map((f) => f.filename), ["p1.png", "p2.png"], "the total too");
});

Deno.test("planTurnAttachments still refuses the replier's own unreadable file", () => {
  const plan = planTurnAttachments([], [file("mine.mp4", "video/mp4")], LIMITS);
  assert.deepEqual(plan, { ok: false, problem: { kind: "unsupported", filename: "mine.mp4" } });
});
