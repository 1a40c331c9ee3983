import assert from "node:assert/strict";
import { type FailedCall, failedKeyCheck, isCacheRefusal, nextStep } from "./failure_rules.ts";
import { classifyGeminiError } from "../gemini/errors.ts";

const call: FailedCall = {
  error: {},
  streamed: false,
  stopped: false,
  usedCache: false,
  timedOut: false,
};

Deno.test("text on screen ends the request 'interrupted' before any other rule, then stopping", () => {
  const rateLimit = { kind: "rate_limit", scope: "minute" } as const;
  assert.deepEqual(nextStep(rateLimit, { ...call, streamed: true, stopped: true }), {
    step: "interrupted",
  });
  assert.deepEqual(nextStep(rateLimit, { ...call, stopped: true }), { step: "stopped" });
});

Deno.test("a refused cache is dropped (for good on 400) only when the call used it", () => {
  const error = { status: 404, message: "CachedContent not found" };
  const failure = classifyGeminiError(error);
  assert.deepEqual(nextStep(failure, { ...call, error, usedCache: true }), {
    step: "cache_gone",
    refused: false,
  });
  assert.deepEqual(nextStep(failure, { ...call, error }), { step: "rejected", status: 404 });
  const tooBig = { status: 400, message: "cachedContent does not fit" };
  assert.deepEqual(
    nextStep(classifyGeminiError(tooBig), { ...call, error: tooBig, usedCache: true }),
    {
      step: "cache_gone",
      refused: true,
    },
  );
  assert.equal(isCacheRefusal(403, { message: "permission denied" }), false);
});

Deno.test("a refused key moves the call to another key; other 4xx and blocks end it", () => {
  assert.deepEqual(nextStep({ kind: "fatal", status: 401, reason: "unauthorized" }, call), {
    step: "key_refused",
    status: 401,
  });
  assert.deepEqual(nextStep({ kind: "fatal", status: 403, reason: "forbidden" }, call), {
    step: "key_refused",
    status: 403,
  });
  assert.deepEqual(nextStep({ kind: "fatal", status: 400, reason: "bad_request" }, call), {
    step: "rejected",
    status: 400,
  });
  assert.deepEqual(nextStep({ kind: "blocked", reason: "SAFETY" }, call), { step: "blocked" });
});

Deno.test("429s rest the key (minute) or spend its day; transient ones say why", () => {
  assert.deepEqual(nextStep({ kind: "rate_limit", scope: "day" }, call), { step: "day_quota" });
  assert.deepEqual(nextStep({ kind: "rate_limit", scope: "day", dailyLimit: 20 }, call), {
    step: "day_quota",
    dailyLimit: 20,
  });
  assert.deepEqual(
    nextStep({ kind: "rate_limit", scope: "minute", retryAfterMs: 37_000, quota: "tokens" }, call),
    { step: "minute_quota", retryAfterMs: 37_000, quota: "tokens" },
  );
  assert.deepEqual(nextStep({ kind: "transient" }, call), { step: "transient", why: "network" });
  assert.deepEqual(nextStep({ kind: "transient" }, { ...call, timedOut: true }), {
    step: "transient",
    why: "timeout",
  });
  assert.deepEqual(nextStep({ kind: "transient", status: 503, retryAfterMs: 2000 }, call), {
    step: "transient",
    retryAfterMs: 2000,
    why: "503",
  });
});

Deno.test("a failed start-up check names the key by id and never shows the key", () => {
  const key = "AIza-secret-key";
  const error = {
    status: 403,
    message: `[403 Forbidden] Key ${key} was denied [{"@type":"x"}]`,
  };
  const check = failedKeyCheck("key1", key, "gemini-2.5-flash", classifyGeminiError(error), error);
  assert.deepEqual(check, {
    keyId: "key1",
    ok: false,
    status: 403,
    message: "Gemini refused key1; it is out of use: 403 Key [key] was denied",
  });
  const offline = failedKeyCheck("key2", key, "m", { kind: "transient" }, new Error("offline"));
  assert.equal(offline.message, "Could not check key2 (will be tried on use): no status offline");
});
