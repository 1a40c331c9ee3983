import assert from "node:assert/strict";
import { chatLine, koreanLine } from "./chat_text.ts";

Deno.test("chat lines are the same for a seed and about the length asked", () => {
  assert.equal(chatLine(7), chatLine(7));
  assert.notEqual(chatLine(7), chatLine(8));
  assert.ok(chatLine(7).length >= 280 && chatLine(7).length <= 320);
  assert.equal(koreanLine(3), koreanLine(3));
  assert.ok(koreanLine(3).length >= 260 && koreanLine(3).length <= 400);
});
