import assert from "node:assert/strict";
import { SESSION_START_PERIOD_MS, SessionStartBudget } from "./session_start_budget.ts";

Deno.test("SessionStartBudget spends one start per take until none is left", () => {
  const budget = new SessionStartBudget({ total: 1000, remaining: 3, resetAfter: 60_000 }, 0);
  assert.deepEqual([budget.take(0), budget.take(1), budget.take(2)], [0, 0, 0]);
  assert.equal(budget.remaining(3), 0);
  assert.equal(budget.take(1_000), 59_000);
  assert.equal(budget.take(59_999), 1, "a refused take spends nothing and says how long");
});

Deno.test("SessionStartBudget is back to the total once reset_after has passed", () => {
  const budget = new SessionStartBudget({ total: 5, remaining: 0, resetAfter: 4_000 }, 1_000);
  assert.equal(budget.take(4_999), 1);
  assert.equal(budget.take(5_000), 0);
  assert.equal(budget.remaining(5_000), 4);
  // The next period is a day long, counted from the reset.
  for (let i = 0; i < 4; i++) budget.take(6_000);
  assert.equal(budget.take(6_000), 5_000 + SESSION_START_PERIOD_MS - 6_000);
});

Deno.test("SessionStartBudget takes fresh numbers from update()", () => {
  const budget = new SessionStartBudget({ total: 5, remaining: 0, resetAfter: 60_000 }, 0);
  budget.update({ total: 5, remaining: 2, resetAfter: 30_000 }, 10_000);
  assert.equal(budget.take(10_000), 0);
  assert.equal(budget.take(10_000), 0);
  assert.equal(budget.take(10_000), 30_000);
});

Deno.test("SessionStartBudget with reset_after 0 starts a new period at once", () => {
  const budget = new SessionStartBudget({ total: 1000, remaining: 0, resetAfter: 0 }, 0);
  assert.equal(budget.take(0), 0);
  assert.equal(budget.remaining(0), 999);
});

Deno.test("SessionStartBudget rejects impossible numbers with the value", () => {
  assert.throws(
    () => new SessionStartBudget({ total: 1000, remaining: -1, resetAfter: 0 }, 0),
    new RangeError(
      "Cannot use the session start limit as 'remaining' must be a non-negative number: " +
        "current value is -1",
    ),
  );
  assert.throws(
    () => new SessionStartBudget({ total: 1000, remaining: 1, resetAfter: NaN }, 0),
    /'resetAfter' must be a non-negative number/,
  );
});
