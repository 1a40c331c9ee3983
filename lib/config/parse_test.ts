import assert from "node:assert/strict";
import { apiKeys, ConfigError, int, num, oneOf, optionalSnowflake, url } from "./parse.ts";

Deno.test("each reader returns its default when unset and the typed value when valid", () => {
  assert.equal(int({}, "N", 3, 1, 10), 3);
  assert.equal(int({ N: " -1 " }, "N", 3, -1, 10), -1);
  assert.equal(num({ P: "0.5" }, "P", 1), 0.5);
  assert.equal(url({ U: "http://127.0.0.1:9/x//" }, "U", "https://a"), "http://127.0.0.1:9/x");
  assert.equal(oneOf({ L: "DEBUG" }, "L", ["debug", "info"], "info"), "debug");
  assert.equal(optionalSnowflake({}, "G"), undefined);
  assert.deepEqual(apiKeys({ GEMINI_API_KEYS: "a, b,a" }), {
    keys: ["a", "b"],
    projects: [undefined, undefined],
  });
});

Deno.test("a bad value throws a ConfigError naming the variable and what it expects, not the value", () => {
  const cases: [() => unknown, string][] = [
    [() => int({ N: "1.5" }, "N", 3, 1, 10), "N must be a whole number from 1 to 10"],
    [() => num({ P: "-1" }, "P", 1), "P must be a number of 0 or more"],
    [() => url({ U: "ftp://secret@x" }, "U", "https://a"), "U must be an http(s) URL"],
    [() => oneOf({ L: "loud" }, "L", ["debug", "info"], "info"), "L must be one of debug, info"],
    [() => optionalSnowflake({ G: "12" }, "G"), "G must be a Discord id of 17 to 20 digits"],
  ];
  for (const [read, message] of cases) {
    assert.throws(read, (error) => error instanceof ConfigError && error.message === message);
  }
});
