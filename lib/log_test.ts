import assert from "node:assert/strict";
import { log, ProblemRing, recentProblems, redactor, setupLogging, withLogContext } from "./log.ts";

const SECRET = "MTEwMDAwMDAwMDAwMDAwMDAx.secret.token";

Deno.test("redactor replaces every long secret and leaves short values alone", () => {
  const redact = redactor([SECRET, "short"]);
  assert.equal(redact(`a ${SECRET} b ${SECRET} short`), "a [REDACTED] b [REDACTED] short");
});

Deno.test("ProblemRing keeps the newest records up to its capacity", () => {
  const ring = new ProblemRing(2);
  for (const n of [1, 2, 3]) ring.push({ at: n, level: "error", category: "x", message: `${n}` });
  assert.deepEqual(ring.list().map((r) => r.message), ["2", "3"]);
  assert.throws(() => new ProblemRing(0), RangeError);
});

Deno.test("warnings reach the recent-problems ring redacted, with their properties and context", async () => {
  await setupLogging({ level: "error", format: "json", secrets: [SECRET] });
  const before = recentProblems.list().length;
  withLogContext({ requestId: "abc" }, () => {
    log.getChild("broker").error("Gemini cache_fallback", { why: `bad ${SECRET}` });
  });
  log.getChild("bot").error("Could not reply: {error}", { error: `Error: ${SECRET}` });
  const [first, second] = recentProblems.list().slice(before);
  assert.equal(first.category, "broker");
  assert.match(first.message, /^Gemini cache_fallback \{.*"why":"bad \[REDACTED\]"/);
  assert.match(first.message, /"requestId":"abc"/);
  assert.equal(second.message, "Could not reply: Error: [REDACTED]");
});
