import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { isInsideCodeBlock, splitMessage, splitMessageParts } from "./split_message.ts";

const codePoints = (text: string) => [...text].length;

/** The visible text without fences or whitespace, to compare a split against its source. */
const content = (text: string) => text.replace(/```[A-Za-z0-9_+\-.#]*/g, "").replace(/\s+/g, "");

function assertChunksValid(chunks: string[], maxLength: number): void {
  for (const chunk of chunks) {
    ok(codePoints(chunk) <= maxLength, `chunk of ${codePoints(chunk)} > ${maxLength}`);
    ok(chunk.trim() !== "", "empty chunk");
    strictEqual(isInsideCodeBlock(chunk).open, false, `unbalanced fence in:\n${chunk}`);
  }
}

Deno.test("splitMessage() returns a text that fits unchanged", () => {
  const text = "안녕하세요! 무엇을 도와드릴까요?\n\n- 하나\n- 둘";
  deepStrictEqual(splitMessage(text), [text]);
});

Deno.test("splitMessage() returns no chunks for empty or blank text", () => {
  deepStrictEqual(splitMessage(""), []);
  deepStrictEqual(splitMessage(" \n\n \t"), []);
});

Deno.test("splitMessage() fits 2,000 Korean syllables in one message", () => {
  const text = "가".repeat(2000);
  deepStrictEqual(splitMessage(text), [text]);
  deepStrictEqual(splitMessage(text + "나"), [text, "나"]);
});

Deno.test("splitMessage() counts an emoji as one character, as Discord does", () => {
  const text = "😀".repeat(2000);
  strictEqual(text.length, 4000);
  deepStrictEqual(splitMessage(text), [text]);
});

Deno.test("splitMessage() never splits a surrogate pair when hard-cutting", () => {
  const chunks = splitMessage("😀".repeat(5), { maxLength: 2 });
  deepStrictEqual(chunks, ["😀😀", "😀😀", "😀"]);
});

Deno.test("splitMessage() prefers a paragraph break to a later line break", () => {
  const first = "첫째 문단의 첫 줄\n첫째 문단의 둘째 줄";
  const second = "둘째 문단\n계속";
  const chunks = splitMessage(`${first}\n\n${second}`, { maxLength: codePoints(first) + 5 });
  deepStrictEqual(chunks, [first, second]);
});

Deno.test("splitMessage() cuts at the last line break that fits", () => {
  const chunks = splitMessage("하나 둘\n셋 넷\n다섯 여섯", { maxLength: 12 });
  deepStrictEqual(chunks, ["하나 둘\n셋 넷", "다섯 여섯"]);
});

Deno.test("splitMessage() cuts a long line at a space", () => {
  const chunks = splitMessage("오늘 날씨가 정말 좋네요 산책 가실래요", { maxLength: 10 });
  deepStrictEqual(chunks, ["오늘 날씨가 정말", "좋네요 산책", "가실래요"]);
});

Deno.test("splitMessage() hard-cuts only a token longer than a chunk", () => {
  const url = "https://example.com/" + "a".repeat(30);
  const chunks = splitMessage(`링크: ${url} 끝`, { maxLength: 20 });
  deepStrictEqual(chunks, ["링크:", url.slice(0, 20), url.slice(20, 40), url.slice(40) + " 끝"]);
});

Deno.test("splitMessage() closes and reopens a code block with its language tag", () => {
  const code = Array.from({ length: 8 }, (_, i) => `const v${i} = ${i};`).join("\n");
  const text = `예시 코드입니다:\n\`\`\`ts\n${code}\n\`\`\`\n설명 끝.`;
  const chunks = splitMessage(text, { maxLength: 60 });
  assertChunksValid(chunks, 60);
  ok(chunks.length >= 3);
  ok(chunks[0].endsWith("\n```"));
  for (const chunk of chunks.slice(1, -1)) ok(chunk.startsWith("```ts\n"), chunk);
  strictEqual(content(chunks.join("\n")), content(text));
});

Deno.test("splitMessage() reopens a block without a language tag as a plain fence", () => {
  const text = "```\n" + "줄\n".repeat(20) + "```";
  const chunks = splitMessage(text, { maxLength: 20 });
  assertChunksValid(chunks, 20);
  for (const chunk of chunks) ok(chunk.startsWith("```\n"), chunk);
});

Deno.test("splitMessage() does not leave an empty code block at a fence", () => {
  const before = "설명 ".repeat(5).trim();
  const text = `${before}\n\`\`\`py\nprint(1)\nprint(2)\n\`\`\`\n끝`;
  for (let maxLength = 20; maxLength <= 40; maxLength++) {
    const chunks = splitMessage(text, { maxLength });
    assertChunksValid(chunks, maxLength);
    for (const chunk of chunks) {
      ok(!/```py\n```|```py$|^```py\n```/.test(chunk), `empty block at ${maxLength}: ${chunk}`);
    }
    strictEqual(content(chunks.join("\n")), content(text));
  }
});

Deno.test("splitMessage() keeps every chunk within the limit on mixed replies", () => {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const words = ["안녕", "코드", "😀", "설명입니다", "Deno", "x", "아주긴단어".repeat(8)];
  for (let round = 0; round < 200; round++) {
    const parts: string[] = [];
    let open = false;
    for (let i = 0; i < 40; i++) {
      const roll = random();
      if (roll < 0.1) {
        parts.push(open ? "\n```\n" : roll < 0.05 ? "\n```ts\n" : "\n```\n");
        open = !open;
      } else if (roll < 0.2) parts.push("\n");
      else if (roll < 0.25) parts.push("\n\n");
      else parts.push(words[Math.floor(random() * words.length)] + " ");
    }
    const source = parts.join("") + (open ? "\n```" : "");
    const maxLength = 15 + Math.floor(random() * 60);
    const chunks = splitMessage(source, { maxLength });
    assertChunksValid(chunks, maxLength);
    strictEqual(content(chunks.join("\n")), content(source), source);
  }
});

Deno.test("splitMessageParts() sources join back into the text, chunk by chunk", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = ["안녕 ", "설명입니다 ", "😀", "\n", "\n\n", "   \n\n  ", "\n```ts\n", "\n```\n"];
  for (let round = 0; round < 200; round++) {
    const source = Array.from({ length: 40 }, () => pieces[Math.floor(random() * pieces.length)])
      .join("");
    const maxLength = 15 + Math.floor(random() * 60);
    const parts = splitMessageParts(source, { maxLength });
    deepStrictEqual(parts.map((p) => p.content), splitMessage(source, { maxLength }));
    if (source.trim() === "") continue;
    strictEqual(parts.map((p) => p.source).join(""), source, source);
    for (const part of parts) ok(part.content.trim() !== "" && part.source !== "");
  }
});

Deno.test("splitMessageParts() sources hold the text, not the fences added at a cut", () => {
  const text = "```\n" + "줄\n".repeat(8) + "```\n끝";
  deepStrictEqual(splitMessageParts(text, { maxLength: 20 }), [
    { content: "```\n" + "줄\n".repeat(6) + "```", source: "```\n" + "줄\n".repeat(6) },
    { content: "```\n줄\n줄\n```\n끝", source: "줄\n줄\n```\n끝" },
  ]);
});

Deno.test("splitMessage() rejects a maxLength that is not a positive integer", () => {
  throws(() => splitMessage("안녕", { maxLength: 0 }), RangeError);
  throws(() => splitMessage("안녕", { maxLength: 1.5 }), RangeError);
});

Deno.test("isInsideCodeBlock() reports an open block and its language", () => {
  deepStrictEqual(isInsideCodeBlock("코드:\n```typescript\nlet a"), {
    open: true,
    lang: "typescript",
  });
  deepStrictEqual(isInsideCodeBlock("코드:\n```\nlet a"), { open: true, lang: "" });
});

Deno.test("isInsideCodeBlock() reports closed blocks, inline fences included", () => {
  deepStrictEqual(isInsideCodeBlock("```ts\nlet a\n```\n끝"), { open: false, lang: "" });
  deepStrictEqual(isInsideCodeBlock("한 줄 ```코드``` 예시"), { open: false, lang: "" });
  deepStrictEqual(isInsideCodeBlock("그냥 글"), { open: false, lang: "" });
});
