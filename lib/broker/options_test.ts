import assert from "node:assert/strict";
import { BROKER_DEFAULTS, brokerSettings } from "./options.ts";
import { DEFAULT_PRICES } from "./cost.ts";

Deno.test("settings fill in every default and keep what was given", () => {
  assert.deepEqual(brokerSettings({}), {
    ...BROKER_DEFAULTS,
    prices: DEFAULT_PRICES,
    contextCache: true,
    thinkingLevel: undefined,
    lightThinkingLevel: undefined,
    cacheMinTokens: undefined,
  });
  const given = brokerSettings({ maxConcurrency: 2, contextCache: false, thinkingLevel: "high" });
  assert.equal(given.maxConcurrency, 2);
  assert.equal(given.contextCache, false);
  assert.equal(given.thinkingLevel, "high");
});

Deno.test("settings take the model's lightest level for folds and its cache minimum from the table", () => {
  const flash = brokerSettings({ model: "gemini-3.8-flash", thinkingLevel: "high" });
  assert.equal(flash.lightThinkingLevel, "low", "3.8 Flash refuses minimal");
  assert.equal(flash.cacheMinTokens, 4096);
  const lite = brokerSettings({ model: "gemini-3.5-flash-lite" });
  assert.equal(lite.lightThinkingLevel, "minimal");
  assert.equal(lite.cacheMinTokens, undefined);
  const unknown = brokerSettings({ model: "gemini-9-flash", thinkingLevel: "medium" });
  assert.equal(unknown.lightThinkingLevel, "medium", "unknown levels: only the configured one");
});

Deno.test("settings refuse a concurrency that is not a positive integer, and a wait bound of 0", () => {
  assert.throws(
    () => brokerSettings({ maxConcurrency: 1.5 }),
    new RangeError(
      "Cannot create GeminiBroker as 'maxConcurrency' must be a positive integer: current value is 1.5",
    ),
  );
  assert.throws(
    () => brokerSettings({ maxWaitMs: 0 }),
    new RangeError(
      "Cannot create GeminiBroker as 'maxWaitMs' must be positive: current value is 0",
    ),
  );
});
