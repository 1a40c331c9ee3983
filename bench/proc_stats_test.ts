import assert from "node:assert/strict";
import { cpuTicks, sampleProcess, statusKb } from "./proc_stats.ts";

Deno.test("cpuTicks counts fields after the last parenthesis, so a name may hold ') '", () => {
  const stat = "7 (a) b (c) R 1 7 7 0 -1 0 0 0 0 0 12 3 0 0 20 0 1 0 5 6 7";
  assert.equal(cpuTicks(stat), 15);
});

Deno.test("cpuTicks and statusKb name what they could not read", () => {
  assert.throws(() => cpuTicks("7 (x) R 1"), /utime and stime/);
  assert.throws(() => statusKb("Name:\tdeno\n", "VmRSS"), /VmRSS/);
});

Deno.test("sampleProcess reads this process: CPU spent, and a peak no lower than now", async () => {
  // Spend a little CPU so that at least one clock tick is counted.
  const until = performance.now() + 30;
  while (performance.now() < until) Math.sqrt(Math.random());
  const sample = await sampleProcess(Deno.pid);
  assert.ok(sample.cpuMs > 0, `cpuMs ${sample.cpuMs}`);
  assert.ok(sample.rssMb > 1, `rssMb ${sample.rssMb}`);
  assert.ok(sample.peakRssMb >= sample.rssMb, `peak ${sample.peakRssMb} < ${sample.rssMb}`);
});
