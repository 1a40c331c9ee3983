/**
 * `.ci/run`'s closing lines: the names of the tests that failed, then `N passed, N failed` as the
 * very last line, so a red run says what to look at without scrolling back.
 */
import assert from "node:assert/strict";
import { ROOT } from "./harness.ts";

Deno.test(".ci/run closes with the failing tests' names and then N passed, N failed", async () => {
  const run = await new Deno.Command("bash", {
    args: [".ci/run", "tests/fixtures/ci_sample.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(run.stdout).trimEnd().split("\n");
  assert.equal(run.code, 1);
  const closing = lines.slice(-3);
  assert.equal(closing[0], "Failed tests:");
  assert.match(closing[1], /^ {2}a failing sample => \.\/tests\/fixtures\/ci_sample\.ts:\d+:\d+$/);
  assert.equal(closing[2], "1 passed, 1 failed");
});
