import { strictEqual, throws } from "node:assert/strict";
import { isSnowflake, isUrlSafeToken, requireSnowflake, requireUrlSafeToken } from "./snowflake.ts";

Deno.test("isSnowflake() accepts 17 to 20 digits and nothing else", () => {
  strictEqual(isSnowflake("12345678901234567"), true);
  strictEqual(isSnowflake("12345678901234567890"), true);
  strictEqual(isSnowflake("1234567890123456"), false);
  strictEqual(isSnowflake("123456789012345678901"), false);
  for (const bad of ["../../users/@me", "1100000000000000001/..", " 1100000000000000001", ""]) {
    strictEqual(isSnowflake(bad), false, bad);
  }
  strictEqual(isSnowflake("1100000000000000001\n"), false);
  strictEqual(isSnowflake(1100000000000000001), false);
  strictEqual(isSnowflake(undefined), false);
});

Deno.test("isUrlSafeToken() refuses anything that could leave its path segment", () => {
  strictEqual(isUrlSafeToken("fake-interaction-1-2f1c.abc_DEF"), true);
  for (const bad of ["", ".", "..", "a/b", "../x", "a?b", "a#b", "a%2Fb", "a b", "a\\b"]) {
    strictEqual(isUrlSafeToken(bad), false, JSON.stringify(bad));
  }
  strictEqual(isUrlSafeToken("x".repeat(1001)), false);
  strictEqual(isUrlSafeToken(null), false);
});

Deno.test("requireSnowflake() and requireUrlSafeToken() never echo what they refuse", () => {
  throws(() => requireSnowflake("../../users/@me", "channel id"), (e: Error) => {
    strictEqual(e instanceof TypeError, true);
    strictEqual(e.message.includes("users"), false);
    return /channel id/.test(e.message);
  });
  throws(() => requireUrlSafeToken("secret/../token"), (e: Error) => !e.message.includes("secret"));
  strictEqual(requireSnowflake("1100000000000000001", "channel id"), "1100000000000000001");
});
