/**
 * A thinking level the model refuses, learned from its 400 while running: the SDK client against
 * the fake Gemini, which refuses levels as the real API does, with the recorded message.
 */
import assert from "node:assert/strict";
import { FakeGemini } from "../../tests/fakes/fake_gemini.ts";
import { SdkGeminiClient } from "./client.ts";
import { isThinkingRefusal, ThinkingFallback } from "./thinking.ts";

const KEY = "AQ.Ab8RN6thinking-test-key";
const UNKNOWN = "gemini-4-flash-preview";

Deno.test("a level an unknown model refuses is learned once, and that turn and later ones go without it", async () => {
  const fake = await FakeGemini.start({
    apiKeys: [KEY],
    models: [UNKNOWN],
    refusedLevels: { [UNKNOWN]: ["minimal"] },
  });
  try {
    const learned: string[] = [];
    const client = new ThinkingFallback(new SdkGeminiClient({ baseUrl: fake.url }), {
      onLearned: (model, level, why) => learned.push(`${model} ${level}: ${why}`),
    });
    const ask = { apiKey: KEY, model: UNKNOWN, thinkingLevel: "minimal" as const };
    for (const word of ["하나", "둘", "셋"]) {
      const result = await client.generate({
        ...ask,
        contents: [{ role: "user", parts: [{ text: word }] }],
      });
      assert.match(result.text, new RegExp(word), "every turn is answered");
    }
    assert.equal(learned.length, 1, "learned once");
    assert.match(
      learned[0],
      /gemini-4-flash-preview minimal: .*Thinking level MINIMAL is not supported/,
    );
    const levels = fake.requests.map((r) => r.body.generationConfig?.thinkingConfig?.thinkingLevel);
    // The refused call, its retry without a level, then two calls that never send it again.
    assert.deepEqual(levels, ["minimal", undefined, undefined, undefined]);
    assert.deepEqual(fake.requests.map((r) => r.status), [400, 200, 200, 200]);
  } finally {
    await fake.close();
  }
});

Deno.test("a level the model takes is kept, and other 400s are not taken for a refusal", async () => {
  const fake = await FakeGemini.start({ apiKeys: [KEY] });
  try {
    const client = new ThinkingFallback(new SdkGeminiClient({ baseUrl: fake.url }));
    const contents = [{ role: "user", parts: [{ text: "안녕" }] }];
    await client.generate({
      apiKey: KEY,
      model: "gemini-3.8-flash",
      contents,
      thinkingLevel: "low",
    });
    assert.equal(fake.requests[0].body.generationConfig.thinkingConfig.thinkingLevel, "low");
    assert.equal(client.refuses("gemini-3.8-flash", "low"), false);
    fake.failStatus(400, "Request contains an invalid argument.");
    await assert.rejects(
      client.generate({ apiKey: KEY, model: "gemini-3.8-flash", contents, thinkingLevel: "low" }),
      (error: unknown) => !isThinkingRefusal(error),
    );
    assert.equal(fake.requests.length, 2, "not retried");
  } finally {
    await fake.close();
  }
});
