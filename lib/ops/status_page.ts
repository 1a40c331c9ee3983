/**
 * The status page at `GET /`: one small HTML page, no script, that reloads itself every 10 s.
 *
 * It shows the running bot's figures from {@link StatusSnapshot}: sessions, the queue, each key's
 * budgets (by key id only), latency percentiles over the last hour with an inline SVG chart,
 * today's tokens and estimated cost, and the recent warnings and errors (already redacted by the
 * log sink that kept them). Every value is HTML-escaped.
 *
 * @module
 */
import { latencyChart } from "./latency_chart.ts";
import type { ProblemRecord } from "../log.ts";
import { duration, escape, integer, ms, usd } from "./status_format.ts";
import type { KeyFigures, LatencySummary, StatusSnapshot } from "./status_snapshot.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { DayTotals } from "./day_totals.ts";
export type { LatencySlot, LatencySummary } from "./latency_summary.ts";
export type { ProblemRecord } from "../log.ts";
export type { KeyFigures } from "./metrics_sources.ts";
export type { StatusSnapshot } from "./status_snapshot.ts";
export type { KeyBudget, KeyStatus } from "../quota/token_pool.ts";

/** Options for {@linkcode renderStatusPage}. */
export interface StatusPageOptions {
  /** Seconds between reloads. @default 10 */
  refreshSeconds?: number;
  /** Shown in the title. @default "SoyeBot" */
  title?: string;
}

/**
 * Renders the status page.
 *
 * @example
 * ```ts ignore
 * const html = renderStatusPage(metrics.snapshot(), recentProblems.list());
 * ```
 */
export function renderStatusPage(
  snapshot: StatusSnapshot,
  problems: readonly ProblemRecord[],
  options: StatusPageOptions = {},
): string {
  const title = options.title ?? "SoyeBot";
  const refresh = options.refreshSeconds ?? 10;
  const s = snapshot;
  const gateway = s.gatewayConnected
    ? `<span class="pill ok" id="gateway">gateway connected</span>`
    : `<span class="pill bad" id="gateway">gateway down</span>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${refresh}">
<title>${escape(title)} status</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${escape(title)}</h1>
  ${gateway}
  <span class="muted">up ${duration(s.now - s.startedAt)} · ${
    escape(new Date(s.now).toISOString().replace("T", " ").slice(0, 19))
  } UTC · reloads every ${refresh} s</span>
</header>
<main>
<section class="tiles">
  ${tile("Live sessions", "live-sessions", integer(s.liveSessions))}
  ${tile("Queue depth", "queue-depth", integer(s.queueDepth), `${integer(s.activeCalls)} running`)}
  ${tile("Messages", "messages", integer(s.messages), "since start")}
  ${
    tile(
      "Tokens today",
      "tokens-today",
      integer(s.today.tokensIn + s.today.tokensOut + s.today.tokensThinking),
      `${integer(s.today.calls)} calls (Pacific day ${escape(s.today.day)})`,
    )
  }
  ${tile("Est. cost today", "cost-today", usd(s.today.costUsd), "USD, from GEMINI_PRICE_*")}
  ${
    tile(
      "429s",
      "rate-limited",
      integer(s.rateLimitedMinute + s.rateLimitedDay + s.discordRateLimited),
      `Gemini ${integer(s.rateLimitedMinute)}/min, ${integer(s.rateLimitedDay)}/day · Discord ${
        integer(s.discordRateLimited)
      }`,
    )
  }
</section>

<section class="card">
  <h2>Latency, last hour</h2>
  <table class="latency">
    <thead><tr><th></th><th>p50</th><th>p90</th><th>p99</th><th>samples</th></tr></thead>
    <tbody>
      ${latencyRow("First visible text", "latency-first", s.firstText)}
      ${latencyRow("Complete reply", "latency-complete", s.complete)}
      ${latencyRow("Gemini call", "latency-gemini", s.geminiCall)}
    </tbody>
  </table>
  ${latencyChart(s.chart)}
</section>

<section class="card">
  <h2>Gemini keys</h2>
  <table class="keys">
    <thead><tr><th>Key</th><th>Requests this minute</th><th>Input tokens this minute</th><th>Requests today</th><th>State</th></tr></thead>
    <tbody>
      ${
    s.keys.map((k) =>
      `<tr id="key-${escape(k.keyId)}">
        <td>${escape(k.keyId)}</td>
        <td>${meter(k.requestsLastMinute, k.budget.rpm)}</td>
        <td>${meter(k.tokensLastMinute, k.budget.tpm)}</td>
        <td>${meter(k.requestsToday, k.effective?.rpd ?? k.budget.rpd)}</td>
        <td>${keyState(k, s.now)}</td>
      </tr>`
    ).join("\n      ") || `<tr><td colspan="5" class="muted">no keys</td></tr>`
  }
    </tbody>
  </table>
</section>

<section class="card">
  <h2>Tokens today</h2>
  <dl class="inline" id="tokens">
    <dt>input</dt><dd id="tokens-in">${integer(s.today.tokensIn)}</dd>
    <dt>cached</dt><dd id="tokens-cached">${integer(s.today.tokensCached)}</dd>
    <dt>output</dt><dd id="tokens-out">${integer(s.today.tokensOut)}</dd>
    <dt>thinking</dt><dd id="tokens-thinking">${integer(s.today.tokensThinking)}</dd>
  </dl>
  <h2>Since start</h2>
  <dl class="inline" id="sessions">
    <dt>evicted</dt><dd>${integer(s.sessions.evicted)}</dd>
    <dt>reaped</dt><dd>${integer(s.sessions.reaped)}</dd>
    <dt>crashed</dt><dd>${integer(s.sessions.crashed)}</dd>
    <dt>host restarts</dt><dd>${integer(s.sessions.restarted)}</dd>
    <dt>Gemini retries</dt><dd id="retries">${integer(s.retries)}</dd>
  </dl>
</section>

<section class="card">
  <h2>Recent warnings and errors</h2>
  ${problemList(problems, s.now)}
</section>
</main>
</body>
</html>
`;
}

const STYLE = `
:root { color-scheme: light; --ink: #1d2430; --muted: #6b7380; --line: #e3e6eb; --bg: #f6f7f9;
  --ok: #1f8a4c; --bad: #c0392b; --warn: #b7791f; --p50: #2f6fdb; --p90: #8e5bd8; --p99: #d9534f; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
  background: var(--bg); }
header { display: flex; align-items: baseline; gap: 14px; padding: 16px 24px; background: #fff;
  border-bottom: 1px solid var(--line); flex-wrap: wrap; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
  margin: 0 0 10px; }
main { padding: 16px 24px 32px; display: grid; gap: 16px; max-width: 1200px; }
.muted { color: var(--muted); }
.pill { font-size: 12px; padding: 2px 8px; border-radius: 999px; color: #fff; }
.pill.ok { background: var(--ok); } .pill.bad { background: var(--bad); }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.tile, .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.tile .label { color: var(--muted); font-size: 12px; }
.tile .value { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .note { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px 6px 0; border-bottom: 1px solid var(--line); }
th { font-weight: 500; color: var(--muted); font-size: 12px; }
table.latency td:not(:first-child), table.latency th:not(:first-child) { text-align: right; }
.meter { display: flex; align-items: center; gap: 8px; }
.bar { width: 110px; height: 8px; background: var(--line); border-radius: 4px; overflow: hidden; }
.bar span { display: block; height: 100%; background: var(--ok); }
.bar span.high { background: var(--warn); } .bar span.full { background: var(--bad); }
dl.inline { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0 0 14px; }
dl.inline dt { color: var(--muted); } dl.inline dd { margin: 0 0 0 -12px; font-weight: 600; }
svg.chart { width: 100%; height: auto; margin-top: 12px; }
svg.chart text { font: 11px system-ui, sans-serif; fill: var(--muted); }
.legend { display: flex; gap: 14px; margin-top: 14px; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 3px; margin-right: 5px; vertical-align: middle; }
ul.problems { list-style: none; margin: 0; padding: 0; }
ul.problems li { padding: 5px 0; border-bottom: 1px solid var(--line); font-family: ui-monospace, monospace;
  font-size: 12px; overflow-wrap: anywhere; }
.level { font-weight: 600; text-transform: uppercase; margin-right: 6px; }
.level.warning { color: var(--warn); } .level.error, .level.fatal { color: var(--bad); }
`;

function tile(label: string, id: string, value: string, note = ""): string {
  return `<div class="tile"><div class="label">${escape(label)}</div>` +
    `<div class="value" id="${id}">${value}</div><div class="note">${note}</div></div>`;
}

function latencyRow(label: string, id: string, l: LatencySummary): string {
  return `<tr id="${id}"><td>${escape(label)}</td><td>${ms(l.p50)}</td><td>${ms(l.p90)}</td>` +
    `<td>${ms(l.p99)}</td><td>${integer(l.count)}</td></tr>`;
}

function meter(used: number, budget: number): string {
  const share = budget > 0 ? Math.min(1, used / budget) : 0;
  const tone = share >= 1 ? "full" : share >= 0.8 ? "high" : "";
  return `<div class="meter"><div class="bar"><span class="${tone}" style="width:${
    (share * 100).toFixed(1)
  }%"></span></div><span>${integer(used)} / ${integer(budget)}</span></div>`;
}

function keyState(key: KeyFigures, now: number): string {
  const { parkedUntil, breaker, disabledUntil } = key;
  if (disabledUntil !== undefined) {
    return `<span class="level error">disabled</span>${duration(disabledUntil - now)}`;
  }
  if (parkedUntil !== undefined) {
    return `<span class="level warning">parked</span>${duration(parkedUntil - now)}`;
  }
  if (breaker !== "closed") return `<span class="level error">breaker ${escape(breaker)}</span>`;
  return `<span class="muted">ready</span>`;
}

function problemList(problems: readonly ProblemRecord[], now: number): string {
  if (problems.length === 0) return `<p class="muted" id="problems">none since start</p>`;
  const items = [...problems].reverse().map((p) =>
    `<li><span class="muted">${duration(now - p.at)} ago</span> ` +
    `<span class="level ${escape(p.level)}">${escape(p.level)}</span>` +
    `<span class="muted">${escape(p.category)}</span> ${escape(p.message)}</li>`
  );
  return `<ul class="problems" id="problems">${items.join("")}</ul>`;
}
