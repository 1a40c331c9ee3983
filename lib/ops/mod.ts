/**
 * Operations: what an operator reads.
 *
 * Owns the metrics (Prometheus, including the figures read at scrape time from narrow snapshots the
 * other parts export), tracing through OpenTelemetry, the status page, latency summaries, the day's
 * totals, and the HTTP server for `/healthz`, `/readyz`, `/metrics` and `/`.
 *
 * @module
 */
export { serveOps, sqliteCheck } from "./http_server.ts";
export type { OpsServer } from "./http_server.ts";
export { BotMetrics } from "./metrics.ts";
export { renderStatusPage } from "./status_page.ts";
export { GeminiTracing, inSpan, setTraceRedactor } from "./tracing.ts";
