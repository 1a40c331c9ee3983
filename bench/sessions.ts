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
import { Sessions } from "../actors/sessions.ts";
import { MAX_EXCHANGES } from "../lib/history_window.ts";
import { percentile } from "../lib/percentiles.ts";
import { DATABASE_FILE } from "../lib/store.ts";
import { DEFAULT_SUPERVISOR_POLICY } from "../lib/supervisor_policy.ts";

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

const KOREAN = [
  "오늘 점심 뭐 먹었어? 나는 회사 앞 김치찌개 집 갔는데 생각보다 괜찮더라.",
  "어제 말한 그 배포 스크립트 말이야, 아직 테스트 안 돌려봤어.",
  "주말에 비 온다던데 한강 가는 건 다음 주로 미룰까?",
  "그 영화 결말 진짜 예상 못 했어. 마지막 장면에서 소름 돋았잖아.",
  "요즘 잠을 너무 늦게 자서 아침마다 커피 두 잔은 마셔야 정신이 들어.",
  "회의록 정리해서 채널에 올려둘게. 빠진 거 있으면 말해줘.",
  "고양이가 키보드 위에 올라가서 코드 반쯤 지워버렸어, 다행히 커밋은 해뒀지.",
  "이번 분기 목표는 응답 시간 절반으로 줄이는 거래. 가능할까?",
];
const ENGLISH = [
  "Did the deploy go through, or is the pipeline still stuck on the lint step?",
  "I think the cache key should include the model name, otherwise we mix prompts.",
  "Can you summarise what we decided about the rate limits yesterday?",
  "The new keyboard arrived and the switches are louder than I expected.",
  "Let's keep the window at twenty exchanges; it fits comfortably in the budget.",
  "Reminder: standup moves to ten thirty tomorrow because of the offsite.",
];

/** A deterministic chat line of about 300 characters mixing Korean and English. */
export function chatLine(seed: number, targetChars = 300): string {
  let state = (seed * 2654435761) >>> 0 || 1;
  const next = () => (state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) >>> 0);
  const parts: string[] = [];
  let length = 0;
  while (length < targetChars - 20) {
    const pool = next() % 3 === 0 ? ENGLISH : KOREAN;
    const sentence = pool[next() % pool.length];
    parts.push(sentence);
    length += sentence.length + 1;
  }
  return parts.join(" ").slice(0, targetChars + 20);
}

const LINES = Array.from({ length: 97 }, (_, i) => chatLine(i));

function rssMb(): number {
  return Deno.memoryUsage().rss / 1024 / 1024;
}

/** Instant turns: each commits a canned line at once, noting the longest `contents` lent. */
function instantTurns(): {
  shown: () => string;
  lent: (contents: unknown[]) => void;
  maxContents(): number;
} {
  let n = 0;
  let max = 0;
  return {
    shown: () => LINES[n++ % LINES.length],
    lent: (contents) => max = Math.max(max, contents.length),
    maxContents: () => max,
  };
}

/** One whole chat turn in `channelId`'s session: begin, take the loan, commit at once. */
async function turn(
  sessions: Sessions,
  channelId: string,
  id: string,
  line: string,
  turns: ReturnType<typeof instantTurns>,
  what: string,
): Promise<void> {
  const begun = await sessions.begin(channelId, id, line);
  if (!begun.ok) throw new Error(`${what} not begun: ${JSON.stringify(begun)}`);
  turns.lent(begun.lease.contents);
  const committed = await begun.lease.commit(turns.shown());
  if (!committed.ok || !committed.recorded) {
    throw new Error(`${what} not recorded: ${JSON.stringify(committed)}`);
  }
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
  const widths = [36, ...rows.map((r) => Math.max(14, r.design.length + 2))];
  const row = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[0]) : c.padStart(widths[i])).join("");
  return [
    row(["", ...rows.map((r) => r.design)]),
    "-".repeat(widths.reduce((a, b) => a + b, 0)),
    ...lines.map(([label, value]) => row([label, ...rows.map(value)])),
  ].join("\n");
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
