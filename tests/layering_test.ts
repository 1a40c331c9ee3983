import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import { layeringProblems, readSources } from "./layering.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("lib/'s folders only point down: no cycle, no root file importing a folder, no actors/, no import past a door", () => {
  deepStrictEqual(layeringProblems(readSources(ROOT, "lib")), []);
});

Deno.test("two folders importing each other are reported with a file that makes each edge", () => {
  const problems = layeringProblems(
    new Map([
      ["lib/quota/pool.ts", 'import type { Call } from "../broker/call.ts";'],
      ["lib/broker/call.ts", 'import { pool } from "../quota/pool.ts";'],
    ]),
  );
  strictEqual(problems.length, 1);
  match(problems[0], /cycle: broker\/ -> quota\/ -> broker\//);
  match(problems[0], /lib\/quota\/pool\.ts -> lib\/broker\/call\.ts/);
  match(problems[0], /lib\/broker\/call\.ts -> lib\/quota\/pool\.ts/);
});

Deno.test("a cycle through three folders is found, even when only a doc example closes it", () => {
  const problems = layeringProblems(
    new Map([
      ["lib/a/x.ts", 'import { y } from "../b/y.ts";'],
      ["lib/b/y.ts", 'export const y = 1;\nimport { z } from "../c/z.ts";'],
      ["lib/c/z.ts", '/**\n * ```ts\n * import { x } from "../a/x.ts";\n * ```\n */'],
    ]),
  );
  strictEqual(problems.length, 1);
  match(problems[0], /cycle: a\/ -> b\/ -> c\/ -> a\//);
});

Deno.test("a test may import a folder above its module without making a cycle", () => {
  const problems = layeringProblems(
    new Map([
      ["lib/broker/rules.ts", 'import type { Failure } from "../gemini/errors.ts";'],
      ["lib/gemini/errors.ts", "export type Failure = string;"],
      ["lib/gemini/files_test.ts", 'import { rules } from "../broker/rules.ts";'],
    ]),
  );
  deepStrictEqual(problems, []);
});

Deno.test("a file at lib/'s root importing a folder is reported", () => {
  const problems = layeringProblems(
    new Map([["lib/clock.ts", 'import { text } from "./text/strings_ko.ts";']]),
  );
  deepStrictEqual(problems, [
    "lib/clock.ts is at lib/'s root but imports the folder text/ (lib/text/strings_ko.ts)",
  ]);
});

Deno.test("lib/ importing actors/ is reported, dynamic imports and worker URLs included", () => {
  const problems = layeringProblems(
    new Map([
      ["lib/flow/x.ts", 'const m = await import("../../actors/sessions/host.ts");'],
      ["lib/y.ts", 'new Worker(new URL("../actors/sessions/host_worker.ts", import.meta.url));'],
    ]),
  );
  strictEqual(problems.length, 2);
  for (const problem of problems) match(problem, /must not import actors\//);
});

Deno.test("an import past another folder's door is reported; tests may reach in", () => {
  const problems = layeringProblems(
    new Map([
      ["lib/gemini/mod.ts", 'export { SdkGeminiClient } from "./client.ts";'],
      ["lib/gemini/client.ts", "export class SdkGeminiClient {}"],
      ["lib/broker/call.ts", 'import { SdkGeminiClient } from "../gemini/client.ts";'],
      ["lib/broker/call_test.ts", 'import { SdkGeminiClient } from "../gemini/client.ts";'],
    ]),
  );
  deepStrictEqual(problems, [
    "lib/broker/call.ts imports lib/gemini/client.ts past its folder's door: import it from lib/gemini/mod.ts",
  ]);
});

Deno.test("imports within a folder, down to the root and down to another folder's door are fine", () => {
  const problems = layeringProblems(
    new Map([
      ["lib/clock.ts", "export const now = () => 0;"],
      ["lib/gemini/mod.ts", 'export { call } from "./call.ts";'],
      ["lib/gemini/call.ts", 'import { now } from "../clock.ts";\nexport const call = now;'],
      ["lib/broker/attempt.ts", 'import { call } from "../gemini/mod.ts";\nimport "./queue.ts";'],
      ["lib/broker/queue.ts", 'import { now } from "../clock.ts";'],
    ]),
  );
  deepStrictEqual(problems, []);
});
