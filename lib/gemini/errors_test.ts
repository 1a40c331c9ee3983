import assert from "node:assert/strict";
import { classifyGeminiError, dailyQuotaValue, isDailyQuota, parseRetryDelay } from "./errors.ts";

const URL =
  "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent";

/** An object shaped like the SDK's `GoogleGenerativeAIFetchError` for a given response body. */
function fetchError(
  status: number,
  statusText: string,
  body: { message: string; details?: unknown[] },
) {
  const detailsJson = body.details ? ` ${JSON.stringify(body.details)}` : "";
  const error = new Error(
    `[GoogleGenerativeAI Error]: Error fetching from ${URL}: [${status} ${statusText}] ${body.message}${detailsJson}`,
  );
  return Object.assign(error, { status, statusText, errorDetails: body.details });
}

const HELP = {
  "@type": "type.googleapis.com/google.rpc.Help",
  links: [{
    description: "Learn more about Gemini API quotas",
    url: "https://ai.google.dev/gemini-api/docs/rate-limits",
  }],
};

function quotaFailure(quotaId: string, quotaValue: string) {
  return {
    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
    violations: [{
      quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests",
      quotaId,
      quotaDimensions: { location: "global", model: "gemini-2.5-flash" },
      quotaValue,
    }],
  };
}

function retryInfo(retryDelay: unknown) {
  return { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay };
}

const DAILY_429 = fetchError(429, "Too Many Requests", {
  message:
    "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 20, model: gemini-2.5-flash\nPlease retry in 37.2s.",
  details: [
    quotaFailure("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "20"),
    HELP,
    retryInfo("37s"),
  ],
});

const MINUTE_429 = fetchError(429, "Too Many Requests", {
  message: "You exceeded your current quota... Please retry in 12.8s.",
  details: [
    quotaFailure("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "10"),
    HELP,
    retryInfo("12s"),
  ],
});

Deno.test("parseRetryDelay() reads RetryInfo durations as strings", () => {
  assert.equal(parseRetryDelay([retryInfo("37s")]), 37000);
  assert.equal(parseRetryDelay([retryInfo("1.5s")]), 1500);
  assert.equal(parseRetryDelay([retryInfo("0.5s")]), 500);
  assert.equal(parseRetryDelay([retryInfo("0s")]), 0);
  assert.equal(parseRetryDelay([HELP, retryInfo("0.0001s")]), 1);
});

Deno.test("parseRetryDelay() reads RetryInfo durations as {seconds, nanos}", () => {
  assert.equal(parseRetryDelay([retryInfo({ seconds: 37 })]), 37000);
  assert.equal(parseRetryDelay([retryInfo({ seconds: "2", nanos: 500000000 })]), 2500);
  assert.equal(parseRetryDelay([retryInfo({ nanos: 250000000 })]), 250);
  assert.equal(parseRetryDelay([retryInfo({})]), undefined);
});

Deno.test("parseRetryDelay() takes the longer of RetryInfo (rounded down) and the message", () => {
  assert.equal(parseRetryDelay(DAILY_429.errorDetails, DAILY_429.message), 37200);
  assert.equal(parseRetryDelay([retryInfo("5s")], "Please retry in 3s."), 5000);
});

Deno.test("parseRetryDelay() falls back to 'Please retry in' in the message", () => {
  assert.equal(parseRetryDelay(undefined, "Quota exceeded. Please retry in 37.2s."), 37200);
  assert.equal(parseRetryDelay([HELP], "Please retry in 500ms."), 500);
  assert.equal(parseRetryDelay([retryInfo("soon")], "Please retry in 3s."), 3000);
  assert.equal(parseRetryDelay([], "Please retry in 0.25 s"), 250);
});

Deno.test("parseRetryDelay() returns undefined when nothing says", () => {
  assert.equal(parseRetryDelay(undefined), undefined);
  assert.equal(parseRetryDelay("37s"), undefined);
  assert.equal(parseRetryDelay([null, 3, HELP], "Internal error"), undefined);
});

Deno.test("isDailyQuota() spots a PerDay quotaId among the violations", () => {
  assert.equal(isDailyQuota(DAILY_429.errorDetails), true);
  assert.equal(isDailyQuota(MINUTE_429.errorDetails), false);
  const both = {
    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
    violations: [
      { quotaId: "GenerateContentInputTokensPerModelPerMinute-FreeTier" },
      { quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier" },
    ],
  };
  assert.equal(isDailyQuota([both]), true);
});

Deno.test("isDailyQuota() tolerates malformed details", () => {
  assert.equal(isDailyQuota(undefined), false);
  assert.equal(isDailyQuota({}), false);
  assert.equal(isDailyQuota([{ "@type": "type.googleapis.com/google.rpc.QuotaFailure" }]), false);
  assert.equal(isDailyQuota([{ quotaId: "PerDay" }]), false);
});

Deno.test("classifyGeminiError() a daily 429 is scope day, without the short retry delay", () => {
  assert.deepEqual(classifyGeminiError(DAILY_429), {
    kind: "rate_limit",
    scope: "day",
    dailyLimit: 20,
  });
});

Deno.test("dailyQuotaValue() reads the per-day violation's quotaValue, and only that", () => {
  assert.equal(dailyQuotaValue(DAILY_429.errorDetails), 20);
  assert.equal(dailyQuotaValue(MINUTE_429.errorDetails), undefined);
  const both = {
    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
    violations: [
      { quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", quotaValue: "10" },
      { quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier", quotaValue: 250 },
    ],
  };
  assert.equal(dailyQuotaValue([both]), 250);
  for (const quotaValue of ["", "0", "-3", "1.5", "many", undefined]) {
    const details = [quotaFailure("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "x")];
    (details[0].violations[0] as { quotaValue: unknown }).quotaValue = quotaValue;
    assert.equal(dailyQuotaValue(details), undefined, String(quotaValue));
    const error = fetchError(429, "Too Many Requests", { message: "quota", details });
    assert.deepEqual(classifyGeminiError(error), {
      kind: "rate_limit",
      scope: "day",
    });
  }
});

Deno.test("classifyGeminiError() a per-minute 429 carries its retry delay and its quota", () => {
  assert.deepEqual(classifyGeminiError(MINUTE_429), {
    kind: "rate_limit",
    scope: "minute",
    retryAfterMs: 12800,
    quota: "requests",
  });
  const tokens = fetchError(429, "Too Many Requests", {
    message: "You exceeded your current quota...",
    details: [quotaFailure("GenerateContentInputTokensPerModelPerMinute-FreeTier", "250000")],
  });
  assert.deepEqual(classifyGeminiError(tokens), {
    kind: "rate_limit",
    scope: "minute",
    quota: "tokens",
  });
});

Deno.test("classifyGeminiError() a 429 without details uses the message or nothing", () => {
  const fromMessage = fetchError(429, "Too Many Requests", {
    message: "Resource exhausted. Please retry in 2.5s.",
  });
  assert.deepEqual(classifyGeminiError(fromMessage), {
    kind: "rate_limit",
    scope: "minute",
    retryAfterMs: 2500,
  });
  const bare = fetchError(429, "Too Many Requests", { message: "Resource has been exhausted" });
  assert.deepEqual(classifyGeminiError(bare), { kind: "rate_limit", scope: "minute" });
});

Deno.test("classifyGeminiError() 5xx and 408 are transient", () => {
  const overloaded = fetchError(503, "Service Unavailable", {
    message: "The model is overloaded. Please try again later.",
  });
  assert.deepEqual(classifyGeminiError(overloaded), { kind: "transient", status: 503 });
  const internal = fetchError(500, "Internal Server Error", {
    message: "An internal error has occurred.",
  });
  assert.deepEqual(classifyGeminiError(internal), { kind: "transient", status: 500 });
  const deadline = fetchError(504, "Gateway Timeout", {
    message: "Deadline expired before operation could complete.",
    details: [retryInfo("5s")],
  });
  assert.deepEqual(classifyGeminiError(deadline), {
    kind: "transient",
    status: 504,
    retryAfterMs: 5000,
  });
  assert.deepEqual(
    classifyGeminiError(fetchError(408, "Request Timeout", { message: "" })),
    { kind: "transient", status: 408 },
  );
});

Deno.test("classifyGeminiError() 4xx are fatal with a reason", () => {
  const cases: [ReturnType<typeof fetchError>, string][] = [
    [
      fetchError(400, "Bad Request", {
        message: "* GenerateContentRequest.contents: contents is not specified",
        details: [{
          "@type": "type.googleapis.com/google.rpc.BadRequest",
          fieldViolations: [{ field: "contents", description: "contents is not specified" }],
        }],
      }),
      "bad_request",
    ],
    [fetchError(401, "Unauthorized", { message: "" }), "unauthorized"],
    [
      fetchError(403, "Forbidden", { message: "Method doesn't allow unregistered callers." }),
      "forbidden",
    ],
    [
      fetchError(404, "Not Found", {
        message: "models/gemini-9 is not found for API version v1beta",
      }),
      "not_found",
    ],
    [fetchError(413, "Payload Too Large", { message: "" }), "other"],
  ];
  for (const [error, reason] of cases) {
    assert.deepEqual(classifyGeminiError(error), { kind: "fatal", status: error.status, reason });
  }
});

Deno.test("classifyGeminiError() a 400 for an invalid API key is unauthorized", () => {
  const invalidKey = fetchError(400, "Bad Request", {
    message: "API key not valid. Please pass a valid API key.",
    details: [{
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "API_KEY_INVALID",
      domain: "googleapis.com",
      metadata: { service: "generativelanguage.googleapis.com" },
    }],
  });
  assert.deepEqual(classifyGeminiError(invalidKey), {
    kind: "fatal",
    status: 400,
    reason: "unauthorized",
  });
});

Deno.test("classifyGeminiError() network, timeout and abort errors are transient", () => {
  const network = new Error(
    `[GoogleGenerativeAI Error]: Error fetching from ${URL}: error sending request: connection refused`,
  );
  assert.deepEqual(classifyGeminiError(network), { kind: "transient" });
  const abort = new Error(
    `[GoogleGenerativeAI Error]: Request aborted when fetching ${URL}: The signal has been aborted`,
  );
  assert.deepEqual(classifyGeminiError(abort), { kind: "transient" });
  assert.deepEqual(
    classifyGeminiError(new DOMException("Signal timed out.", "TimeoutError")),
    { kind: "transient" },
  );
  assert.deepEqual(classifyGeminiError(new TypeError("fetch failed")), { kind: "transient" });
  assert.deepEqual(classifyGeminiError("boom"), { kind: "transient" });
  assert.deepEqual(classifyGeminiError(undefined), { kind: "transient" });
});

Deno.test("classifyGeminiError() a blocked prompt is blocked with its blockReason", () => {
  const error = Object.assign(
    new Error("[GoogleGenerativeAI Error]: Text not available. Response was blocked due to SAFETY"),
    { response: { promptFeedback: { blockReason: "SAFETY", safetyRatings: [] } } },
  );
  assert.deepEqual(classifyGeminiError(error), { kind: "blocked", reason: "SAFETY" });
});

Deno.test("classifyGeminiError() a blocked candidate is blocked with its finishReason", () => {
  const error = Object.assign(
    new Error("[GoogleGenerativeAI Error]: Candidate was blocked due to RECITATION"),
    { response: { candidates: [{ index: 0, finishReason: "RECITATION" }] } },
  );
  assert.deepEqual(classifyGeminiError(error), { kind: "blocked", reason: "RECITATION" });
  const byMessage = new Error(
    "[GoogleGenerativeAI Error]: Candidate was blocked due to PROHIBITED_CONTENT",
  );
  assert.deepEqual(classifyGeminiError(byMessage), {
    kind: "blocked",
    reason: "PROHIBITED_CONTENT",
  });
});

Deno.test("classifyGeminiError() accepts a raw error response body", () => {
  const body = {
    error: {
      code: 429,
      message: "You exceeded your current quota... Please retry in 37.2s.",
      status: "RESOURCE_EXHAUSTED",
      details: DAILY_429.errorDetails,
    },
  };
  assert.deepEqual(classifyGeminiError(body), { kind: "rate_limit", scope: "day", dailyLimit: 20 });
});
