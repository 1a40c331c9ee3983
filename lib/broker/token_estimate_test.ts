import assert from "node:assert/strict";
import { estimateTokens } from "./token_estimate.ts";

Deno.test("estimateTokens counts ASCII at 4 a token, other scripts at 1.5, and 4 per turn", () => {
  assert.equal(estimateTokens([]), 0);
  assert.equal(estimateTokens([], "abcd"), 1);
  assert.equal(estimateTokens([{ role: "user", parts: [{ text: "안녕하세요" }] }]), 4 + 4);
  const twoTurns = [
    { role: "user", parts: [{ text: "hi" }] },
    { role: "model", parts: [{ text: "" }] },
  ];
  assert.equal(estimateTokens(twoTurns, "persona!"), Math.ceil(10 / 4) + 8);
});
