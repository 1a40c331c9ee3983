import assert from "node:assert/strict";
import {
  type Attachment,
  attachmentNote,
  attachmentParts,
  classifyAttachment,
  planAttachments,
  TEXT_ATTACHMENT_MAX_CHARS,
} from "./attachments.ts";

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

Deno.test("attachmentParts turns a GIF into its first frame as PNG, and refuses a broken one", () => {
  const plan = planAttachments([file("anim.gif", "image/gif")], LIMITS);
  assert.ok(plan.ok);
  assert.equal(attachmentParts(plan.planned[0], new TextEncoder().encode("GIF89a....")), undefined);
});
