/**
 * Session benchmark: live sessions through the real {@link Sessions}, its Web Worker hosts and
 * SQLite, with turns that commit at once, so what is measured is the actor system alone.
 *
 * Two designs, each in its own process so that their RSS figures do not mix:
 * - multiplexed: 1000 sessions over 2 worker hosts, as the bot runs them;
 * - one Worker per session: 100 sessions, each alone in its own worker (a one-host `Sessions`
 *   per session), to show what multiplexing saves.
 *
 * Every session is filled to a full window (20 exchanges, 40 messages of about 300 characters,
 * Korean and English mixed). Activation latency is the first message's round trip (begin, the
 * window lent, commit, persist, done) for a new session and for one evicted and rehydrated from
 * the store.
 *
 * Run with `deno task bench` (all benchmarks) or `deno run -P=bench bench/sessions.ts`; add
 * `--sessions=N` for a smaller run (N multiplexed sessions, N/10 one-Worker ones).
 *
 * @module
 */
import { join } from "node:path";
import { Sessions } from "../actors/sessions/sessions.ts";
import { MAX_EXCHANGES } from "../lib/sessions/window.ts";
import { percentile } from "../lib/percentiles.ts";
import { DATABASE_FILE } from "../lib/store/sqlite.ts";
import { DEFAULT_SUPERVISOR_POLICY } from "../lib/sessions/supervisor_policy.ts";
import { instantTurns, LINES, turn } from "./instant_turns.ts";
import { sideBySide } from "./report.ts";

/** Multiplexed sessions in a full run; the one-Worker design runs a tenth as many. */
const FULL_SESSIONS = 1000;

/** The sizes the benchmark runs at. */
export interface SessionBenchOptions {
  /** @default 1000 (100 for one Worker per session) */
  sessions?: number;
  /** Exchanges per session; the window holds MAX_EXCHANGES. @default MAX_EXCHANGES */
  exchanges?: number;
  /** Worker hosts, for the multiplexed design. @default 2 */
  hosts?: number;
}

/** What one design measured. */
export interface SessionFigures {
  design: string;
  sessions: number;
  messages: number;
  rssBaselineMb: number;
  rssMb: number;
  rssPerSessionKb: number;
  newP50Ms: number;
  newP99Ms: number;
  rehydratedP50Ms: number;
  rehydratedP99Ms: number;
  messagesPerSecond: number;
  /** The most `contents` one request carried: 41 once a full window (40 messages) came back. */
  fullContents: number;
  seconds: number;
}

function rssMb(): number {
  return Deno.memoryUsage().rss / 1024 / 1024;
}

async function benchDataDir(): Promise<string> {
  await Deno.mkdir("data", { recursive: true });
  const dir = join("data", `bench-${crypto.randomUUID()}`);
  await Deno.mkdir(dir);
  return dir;
}

const channel = (i: number) => `${1_300_000_000_000_000_000n + BigInt(i)}`;

/** One way of running sessions: where a session lives, and how it leaves memory. */
interface Design {
  label: string;
  /** Makes session `i` ready for its first message; timed together with that message. */
  open(i: number): void;
  /** The {@link Sessions} that session `i` lives in. */
  sessionsOf(i: number): Sessions;
  /** Drops session `i` from memory, untimed, so that its next message reads the store. */
  evict(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `sessions` sessions of a design to full windows, then rehydrates each, and measures. */
async function measure(
  sessions: number,
  exchanges: number,
  design: (sessionsWith: (hosts: number) => Sessions) => Design,
): Promise<SessionFigures> {
  const dir = await benchDataDir();
  const started = performance.now();
  const baseline = rssMb();
  const turns = instantTurns();
  const { label, open, sessionsOf, evict, stop } = design((hosts) =>
    new Sessions({
      databasePath: join(dir, DATABASE_FILE),
      hosts,
      maxExchanges: MAX_EXCHANGES,
      policy: { ...DEFAULT_SUPERVISOR_POLICY, maxSessions: sessions, sweepMs: 0 },
      onGiveUp: (reason) => {
        throw new Error(reason);
      },
    })
  );
  let seq = 0;
  const say = (i: number, what: string) =>
    turn(sessionsOf(i), channel(i), `m${seq++}`, LINES[seq % LINES.length], turns, what);
  /** The first message's round trip after `open`, one session at a time, uncontended. */
  const firstMessages = async (what: string): Promise<number[]> => {
    const latencies: number[] = [];
    for (let i = 0; i < sessions; i++) {
      const t = performance.now();
      open(i);
      await say(i, what);
      latencies.push(performance.now() - t);
    }
    return latencies;
  };
  try {
    const fresh = await firstMessages("first message");
    // Fill every window: all sessions talking at once, one message each per round.
    const t = performance.now();
    for (let round = 1; round < exchanges; round++) {
      await Promise.all(Array.from({ length: sessions }, (_, i) => say(i, "message")));
    }
    const messagesPerSecond = (sessions * (exchanges - 1)) / ((performance.now() - t) / 1000);
    const rss = rssMb();
    for (let i = 0; i < sessions; i++) await evict(i);
    const rehydrated = await firstMessages("rehydrated message");
    return {
      design: label,
      sessions,
      messages: seq,
      rssBaselineMb: baseline,
      rssMb: rss,
      rssPerSessionKb: ((rss - baseline) * 1024) / sessions,
      newP50Ms: percentile(fresh, 50),
      newP99Ms: percentile(fresh, 99),
      rehydratedP50Ms: percentile(rehydrated, 50),
      rehydratedP99Ms: percentile(rehydrated, 99),
      messagesPerSecond,
      fullContents: turns.maxContents(),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** 1000 sessions multiplexed over a few worker hosts, as the bot runs them. */
export function benchMultiplexed(options: SessionBenchOptions = {}): Promise<SessionFigures> {
  const { sessions = FULL_SESSIONS, exchanges = MAX_EXCHANGES, hosts = 2 } = options;
  return measure(sessions, exchanges, (sessionsWith) => {
    const multiplexed = sessionsWith(hosts);
    return {
      label: `multiplexed (${hosts} hosts)`,
      open: () => {},
      sessionsOf: () => multiplexed,
      evict: (i) => {
        if (!multiplexed.evict(channel(i))) throw new Error(`could not evict ${channel(i)}`);
        return Promise.resolve();
      },
      stop: () => multiplexed.stop(),
    };
  });
}

/** The design not taken: each session alone in its own Web Worker (a one-host Sessions each). */
export function benchWorkerPerSession(options: SessionBenchOptions = {}): Promise<SessionFigures> {
  const { sessions = FULL_SESSIONS / 10, exchanges = MAX_EXCHANGES } = options;
  return measure(sessions, exchanges, (sessionsWith) => {
    const workers: Sessions[] = [];
    return {
      label: "one Worker per session",
      // A new session is a new worker; so is a rehydrated one, which then reads the store.
      open: (i) => {
        workers[i] = sessionsWith(1);
      },
      sessionsOf: (i) => workers[i],
      // Evicting a session ends its worker.
      evict: (i) => workers[i].stop(),
      stop: async () => {
        await Promise.all(workers.map((w) => w.stop()));
      },
    };
  });
}

/**
 * The V8 flags `deno task start` runs with: young-generation semi-spaces capped at 1 MB in every
 * isolate (a burst of messages otherwise grows them to hundreds of MB across the hosts), and
 * V8's memory-over-speed heuristics; the bot waits on the network, not on JavaScript.
 */
const START_V8_FLAGS = "--max-semi-space-size=1,--optimize-for-size";

/** Runs one design in a fresh `deno` process and returns its figures. */
async function inChildProcess(
  design: "multiplexed" | "per-worker",
  sessions: number,
  v8Flags?: string,
): Promise<SessionFigures> {
  const flags = v8Flags ? [`--v8-flags=${v8Flags}`] : [];
  const label = v8Flags ? "as deno task start" : "V8 default heap";
  const args = [`--design=${design}`, `--sessions=${sessions}`];
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=bench", ...flags, "bench/sessions.ts", ...args],
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) throw new Error(`the ${design} run exited with ${output.code}:\n${text}`);
  const figures = JSON.parse(text.trim().split("\n").at(-1)!) as SessionFigures;
  figures.design += `, ${label}`;
  return figures;
}

/** Formats the two designs side by side. */
export function table(rows: SessionFigures[]): string {
  const ms = (v: number) => v.toFixed(2);
  const lines: [string, (f: SessionFigures) => string][] = [
    [`sessions (full ${MAX_EXCHANGES}-exchange windows)`, (f) => `${f.sessions}`],
    ["messages delivered", (f) => `${f.messages}`],
    ["contents in a full request", (f) => `${f.fullContents}`],
    ["RSS before sessions (MB)", (f) => f.rssBaselineMb.toFixed(1)],
    ["RSS with all sessions live (MB)", (f) => f.rssMb.toFixed(1)],
    ["RSS added per session (KB)", (f) => f.rssPerSessionKb.toFixed(1)],
    ["new session, 1st message p50 (ms)", (f) => ms(f.newP50Ms)],
    ["new session, 1st message p99 (ms)", (f) => ms(f.newP99Ms)],
    ["rehydrated session p50 (ms)", (f) => ms(f.rehydratedP50Ms)],
    ["rehydrated session p99 (ms)", (f) => ms(f.rehydratedP99Ms)],
    ["messages per second", (f) => Math.round(f.messagesPerSecond).toString()],
    ["wall time (s)", (f) => f.seconds.toFixed(1)],
  ];
  const header = ["", ...rows.map((r) => r.design)];
  return sideBySide(header, lines.map(([label, value]) => [label, ...rows.map(value)]));
}

/** The value of command-line flag `--name=value`, if given. */
function flag(name: string): string | undefined {
  return Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** `--sessions=N`, checked; undefined for a full run. */
function sessionsFlag(): number | undefined {
  const value = flag("sessions");
  if (value === undefined) return undefined;
  const sessions = Number(value);
  if (!Number.isInteger(sessions) || sessions < 1) {
    throw new TypeError(`--sessions must be a positive integer: current value is "${value}"`);
  }
  return sessions;
}

/** Runs both designs, each in its own process, and prints the table. */
export async function main(): Promise<void> {
  const given = sessionsFlag();
  const design = flag("design");
  if (design === "multiplexed") {
    return console.log(JSON.stringify(await benchMultiplexed({ sessions: given })));
  }
  if (design === "per-worker") {
    return console.log(JSON.stringify(await benchWorkerPerSession({ sessions: given })));
  }
  if (design !== undefined) throw new TypeError(`Unknown --design: ${design}`);

  const sessions = given ?? FULL_SESSIONS;
  const perWorkerSessions = Math.max(1, Math.round(sessions / 10));

  console.log(
    `## sessions: Sessions + worker hosts + SQLite, instant turns ` +
      `(Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch}, ` +
      `${navigator.hardwareConcurrency} CPUs)\n`,
  );
  const multiplexed = await inChildProcess("multiplexed", sessions, START_V8_FLAGS);
  const untuned = await inChildProcess("multiplexed", sessions);
  const perWorker = await inChildProcess("per-worker", perWorkerSessions, START_V8_FLAGS);
  console.log(table([multiplexed, untuned, perWorker]));
  const goal = (f: SessionFigures) =>
    `${f.rssMb.toFixed(1)} MB, ${f.rssMb <= 200 ? "met" : "NOT met"}`;
  console.log(
    `\nRSS goal ≤ 200 MB at ${multiplexed.sessions} live sessions: as deno task start runs ` +
      `(--v8-flags=${START_V8_FLAGS}) ${goal(multiplexed)}; with V8's default heap ` +
      `${goal(untuned)}.\n` +
      `One Worker per session costs ` +
      `${(perWorker.rssPerSessionKb / multiplexed.rssPerSessionKb).toFixed(0)}× the memory ` +
      `per session and starts a session ` +
      `${(perWorker.newP50Ms / multiplexed.newP50Ms).toFixed(0)}× slower (p50).`,
  );
}

if (import.meta.main) await main();
