import assert from "node:assert/strict";
import { BROKER_DEFAULTS, brokerSettings } from "./broker_options.ts";
import { DEFAULT_PRICES } from "./cost.ts";

Deno.test("settings fill in every default and keep what was given", () => {
  assert.deepEqual(brokerSettings({}), {
    ...BROKER_DEFAULTS,
    prices: DEFAULT_PRICES,
    contextCache: true,
  });
  const given = brokerSettings({ maxConcurrency: 2, contextCache: false, thinkingBudget: -1 });
  assert.equal(given.maxConcurrency, 2);
  assert.equal(given.contextCache, false);
  assert.equal(given.thinkingBudget, -1);
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
