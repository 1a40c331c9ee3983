import assert from "node:assert/strict";
import {
  CURRENT_MODELS,
  DEFAULT_MODEL,
  lightestLevel,
  modelFacts,
  UNKNOWN_MODEL,
} from "./model_facts.ts";

Deno.test("modelFacts() finds each family by name, Flash-Lite apart from Flash", () => {
  assert.equal(modelFacts("gemini-3.5-flash-lite").family, "3.5 Flash-Lite");
  assert.equal(modelFacts("gemini-3.5-flash").family, "3.5–3.6 Flash");
  assert.equal(modelFacts("gemini-3.6-flash").family, "3.5–3.6 Flash");
  assert.equal(modelFacts("gemini-3.7-flash").family, "3.7–3.8 Flash");
  assert.equal(modelFacts("gemini-3.8-flash-001").family, "3.7–3.8 Flash");
  assert.equal(modelFacts("gemini-3.1-flash-lite").family, "3.1 Flash-Lite");
  assert.equal(modelFacts("gemini-3.8-flashy").known, false, "not a prefix match");
  for (const model of CURRENT_MODELS) assert.ok(modelFacts(model).known, model);
  assert.equal(CURRENT_MODELS[0], DEFAULT_MODEL);
});

Deno.test("a model off the table (2.5 included) gets the most cautious value of each column", () => {
  const unknown = modelFacts("gemini-2.5-flash");
  assert.equal(unknown, UNKNOWN_MODEL);
  assert.deepEqual([unknown.rpm, unknown.tpm, unknown.rpd], [5, 250_000, 20]);
  assert.deepEqual(unknown.prices, { input: 1.5, output: 7.5, cached: 0.15 });
  assert.equal(unknown.thinkingLevels, undefined);
  assert.equal(unknown.cacheMinTokens, undefined);
});

Deno.test("lightestLevel() is the lowest level the model takes, or none when unknown", () => {
  assert.equal(lightestLevel(modelFacts("gemini-3.5-flash-lite")), "minimal");
  assert.equal(lightestLevel(modelFacts("gemini-3.8-flash")), "low");
  assert.equal(lightestLevel(UNKNOWN_MODEL), undefined);
});
