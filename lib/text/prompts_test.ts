import { ok, rejects, strictEqual } from "node:assert/strict";
import { loadPersona, PERSONA, PERSONA_MAX_CHARS, SUMMARY_INSTRUCTION } from "./prompts.ts";

Deno.test("the persona fits in PERSONA_MAX_CHARS (2,500) characters", () => {
  strictEqual(PERSONA_MAX_CHARS, 2500);
  ok(PERSONA.length <= PERSONA_MAX_CHARS, `the persona has ${PERSONA.length} characters`);
  ok(PERSONA.length > 300, "the persona is more than a line");
});

Deno.test("the persona is 소예, speaking 반말, and not an assistant", () => {
  ok(PERSONA.includes("소예"));
  ok(PERSONA.includes("반말"));
  ok(PERSONA.includes("한두 문장"));
  ok(PERSONA.includes("검색엔진"));
  ok(PERSONA.includes("AI"));
  // Written in Korean: Hangul outnumbers Latin letters by far.
  const hangul = PERSONA.match(/[가-힣]/g)?.length ?? 0;
  const latin = PERSONA.match(/[A-Za-z]/g)?.length ?? 0;
  ok(hangul > latin * 10, `${hangul} Hangul, ${latin} Latin`);
});

Deno.test("the summary instruction asks for bullets and no mentions", () => {
  ok(SUMMARY_INSTRUCTION.includes("글머리표"));
  ok(SUMMARY_INSTRUCTION.includes("멘션"));
});

Deno.test("loadPersona() returns the built-in persona without a file", async () => {
  strictEqual(await loadPersona(undefined), PERSONA);
});

Deno.test("loadPersona() reads and trims a file", async () => {
  await Deno.mkdir("data", { recursive: true });
  const path = await Deno.makeTempFile({ dir: "data", suffix: ".txt" });
  try {
    await Deno.writeTextFile(path, "\n너는 테스트 봇이야.\n");
    strictEqual(await loadPersona(path), "너는 테스트 봇이야.");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("loadPersona() refuses a missing, empty or too long file, naming PERSONA_FILE", async () => {
  await Deno.mkdir("data", { recursive: true });
  const path = await Deno.makeTempFile({ dir: "data", suffix: ".txt" });
  try {
    await rejects(loadPersona(`${path}.missing`), /PERSONA_FILE must name a readable text file/);
    await Deno.writeTextFile(path, "  \n ");
    await rejects(loadPersona(path), /PERSONA_FILE .* is empty/);
    await Deno.writeTextFile(path, "가".repeat(PERSONA_MAX_CHARS + 1));
    await rejects(loadPersona(path), /PERSONA_FILE .* at most 2500 characters: it has 2501/);
  } finally {
    await Deno.remove(path);
  }
});
