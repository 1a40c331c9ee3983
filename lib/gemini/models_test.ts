import assert from "node:assert/strict";
import { generateModelsIn, modelGoneMessage, ModelWatch } from "./models.ts";

Deno.test("generateModelsIn() keeps the models that generate content, and the next page", () => {
  const page = {
    models: [
      { name: "models/gemini-2.5-flash", supportedGenerationMethods: ["generateContent", "x"] },
      { name: "models/embedding-001", supportedGenerationMethods: ["embedContent"] },
      { name: "models/broken" },
      "nonsense",
      { name: "models/gemini-2.5-pro", supportedGenerationMethods: ["generateContent"] },
    ],
    nextPageToken: "page-2",
  };
  assert.deepEqual(generateModelsIn(page), {
    models: ["gemini-2.5-flash", "gemini-2.5-pro"],
    next: "page-2",
  });
  assert.deepEqual(generateModelsIn(undefined), { models: [], next: undefined });
  assert.deepEqual(generateModelsIn({ models: [], nextPageToken: "" }), {
    models: [],
    next: undefined,
  });
});

Deno.test("modelGoneMessage() names the model, and the others or why they are unknown", () => {
  assert.match(
    modelGoneMessage("old", ["a", "b"]),
    /^GEMINI_MODEL=old was not found \(404\).*: a, b$/,
  );
  assert.match(modelGoneMessage("old", []), /named no model/);
  assert.match(
    modelGoneMessage("old", new Error("models.list answered 403 Forbidden")),
    /could not be listed \(models\.list answered 403 Forbidden\)\. Current models: gemini-3\.5-flash-lite/,
  );
});

Deno.test("ModelWatch tells of a 404 once a spell, and again after a call worked", () => {
  let told = 0;
  const watch = new ModelWatch(() => told++);
  const gone = { ok: false, reason: "rejected", status: 404 } as const;
  watch.observe({ ok: false, reason: "rejected", status: 400 });
  watch.observe({ ok: false, reason: "unavailable" });
  assert.equal(told, 0);
  for (let i = 0; i < 5; i++) watch.observe(gone);
  assert.equal(told, 1);
  assert.equal(watch.gone, true);
  watch.observe({ ok: true });
  assert.equal(watch.gone, false);
  watch.observe(gone);
  assert.equal(told, 2);
});
