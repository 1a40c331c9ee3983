import assert from "node:assert/strict";
import { SlidingWindow } from "./sliding_window.ts";

Deno.test("SlidingWindow: entries leave the window windowMs after they were added", () => {
  const window = new SlidingWindow(1000);
  window.add(2, 0);
  window.add(3, 500);
  assert.equal(window.used(999), 5);
  assert.equal(window.used(1000), 3);
  assert.equal(window.used(1500), 0);
});

Deno.test("SlidingWindow: waitMs is the time until enough old entries have left", () => {
  const window = new SlidingWindow(1000);
  window.add(2, 0);
  window.add(3, 500);
  assert.equal(window.waitMs(1, 10, 600), 0);
  assert.equal(window.waitMs(1, 5, 600), 400);
  assert.equal(window.waitMs(3, 5, 600), 900);
  // More than the limit ever holds: a whole window.
  assert.equal(window.waitMs(20, 5, 600), 1000);
});

Deno.test("SlidingWindow: usedUpTo counts only the entries made by then", () => {
  const window = new SlidingWindow(1000);
  window.add(1, 100);
  window.add(1, 200);
  window.add(1, 300);
  assert.equal(window.usedUpTo(200, 400), 2);
});

Deno.test("SlidingWindow: correct adjusts an entry, never below nothing, and ignores one gone", () => {
  const window = new SlidingWindow(1000);
  window.add(5, 100);
  window.correct(100, -2);
  assert.equal(window.used(100), 3);
  window.correct(100, -10);
  assert.equal(window.used(100), 0);
  window.correct(42, 7);
  assert.equal(window.used(100), 0);
});

Deno.test("SlidingWindow: slots are when single units fit, oldest leaving first", () => {
  const window = new SlidingWindow(1000);
  window.add(1, 0);
  window.add(1, 100);
  assert.deepEqual(window.slots(3, 3, 200), [200, 1000, 1100]);
});

Deno.test("SlidingWindow: slots are all now while the window has room for every one, and no longer", () => {
  const window = new SlidingWindow(1000);
  window.add(7, 0);
  assert.deepEqual(window.slots(3, 10, 100), [100, 100, 100]);
  window.add(1, 50);
  assert.deepEqual(window.slots(3, 10, 100), [100, 100, 1000]);
});
