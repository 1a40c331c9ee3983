import assert from "node:assert/strict";
import { BotMetrics } from "./metrics.ts";
import { renderStatusPage } from "./status_page.ts";

Deno.test("the page shows the figures, reloads itself, and escapes what it shows", () => {
  const metrics = new BotMetrics();
  metrics.messageReceived();
  metrics.firstText(1234);
  const html = renderStatusPage(metrics.snapshot(), [
    { at: Date.now(), level: "error", category: "bot", message: "<script>alert(1)</script>" },
  ]);
  assert.match(html, /<meta http-equiv="refresh" content="10">/);
  assert.match(html, /<div class="value" id="messages">1<\/div>/);
  assert.match(html, /<tr id="latency-first"><td>First visible text<\/td><td>1\.23 s<\/td>/);
  assert.match(html, /<svg class="chart" id="latency-chart"/);
  assert.ok(!html.includes("<script>"));
  assert.ok(html.includes("&#60;script&#62;"));
  assert.match(html, /gateway down/);
});
