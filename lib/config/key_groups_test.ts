import assert from "node:assert/strict";
import { parseKeyGroups } from "./key_groups.ts";

Deno.test("parseKeyGroups reads plain keys as projects of their own", () => {
  assert.deepEqual(parseKeyGroups(" k1 , k2,,k1 "), {
    keys: ["k1", "k2"],
    projects: [undefined, undefined],
  });
});

Deno.test("parseKeyGroups reads groups, merges a group written twice, and mixes with plain keys", () => {
  assert.deepEqual(parseKeyGroups("projA:k1|k2,projB:k3, k4 ,projA:k5"), {
    keys: ["k1", "k2", "k3", "k4", "k5"],
    projects: ["projA", "projA", "projB", undefined, "projA"],
  });
});

Deno.test("parseKeyGroups says what is wrong without showing a key", () => {
  const secret = "AIzaSecret0123456789";
  const cases: [string, RegExp][] = [
    ["", /at least one/],
    [`${secret}|k2`, /need a group name/],
    [`proj A:${secret}`, /group name/],
    [`p:${secret}|`, /non-empty/],
    [`p:${secret} x`, /without spaces/],
    [`p:${secret},q:${secret}`, /two groups/],
    [`${secret},q:${secret}`, /two groups/],
  ];
  for (const [value, problem] of cases) {
    const parsed = parseKeyGroups(value);
    assert.equal(typeof parsed, "string", value);
    assert.match(parsed as string, problem);
    assert.ok(!(parsed as string).includes(secret), parsed as string);
  }
});
