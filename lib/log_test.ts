import assert from "node:assert/strict";
import {
  isLogged,
  log,
  ProblemRing,
  recentProblems,
  redactor,
  setupLogging,
  withLogContext,
} from "./log.ts";

const SECRET = "MTEwMDAwMDAwMDAwMDAwMDAx.secret.token";

Deno.test("redactor replaces every long secret and leaves short values alone", () => {
  const redact = redactor([SECRET, "short"]);
  assert.equal(redact(`a ${SECRET} b ${SECRET} short`), "a [REDACTED] b [REDACTED] short");
});

Deno.test("redactor cuts interaction tokens out of webhook and callback URLs", () => {
  const redact = redactor([]);
  const token = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnNlY3JldA";
  assert.equal(
    redact(
      `error sending request for url (http://x/api/v10/webhooks/1100/${token}/messages/@original)`,
    ),
    "error sending request for url (http://x/api/v10/webhooks/1100/[REDACTED]/messages/@original)",
  );
  assert.equal(
    redact(`POST /interactions/1300/${token}/callback`),
    "POST /interactions/1300/[REDACTED]/callback",
  );
  assert.equal(redact("/channels/12/messages/34"), "/channels/12/messages/34");
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

Deno.test("isLogged() answers for the level setupLogging set, so costly lines are never built", async () => {
  await setupLogging({ level: "info", format: "json", secrets: [] });
  assert.equal(isLogged("debug"), false);
  assert.equal(isLogged("info"), true);
  assert.equal(isLogged("warning"), true);
  await setupLogging({ level: "error", format: "json", secrets: [] });
  assert.equal(isLogged("warning"), false);
  assert.equal(isLogged("fatal"), true);
});
