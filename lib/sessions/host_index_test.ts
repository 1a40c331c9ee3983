import assert from "node:assert/strict";
import { hostIndex } from "./host_index.ts";

Deno.test("hostIndex places a channel on the same host every time", () => {
  for (const id of ["1200000000000000001", "42", ""]) {
    assert.equal(hostIndex(id, 4), hostIndex(id, 4));
  }
});

Deno.test("hostIndex spreads channels over every host", () => {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[hostIndex(`12000000000000${i}`, 4)]++;
  for (const count of counts) assert.ok(count > 800, `uneven spread: ${counts}`);
});
