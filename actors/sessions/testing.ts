/**
 * Test helpers for {@link Sessions}: real worker hosts on a scratch SQLite file, and a chat turn
 * played the way the message flow plays it (begin, then commit what was "shown").
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Content, MAX_EXCHANGES } from "../../lib/sessions/window.ts";
import type { Lease } from "../../lib/sessions/port.ts";
import {
  DEFAULT_SUPERVISOR_POLICY,
  type SupervisorPolicy,
} from "../../lib/sessions/supervisor_policy.ts";
import { Sessions, type SessionsOptions } from "./sessions.ts";

/** Options for {@link withSessions}: any of Sessions' own, with the policy given in part. */
export type TestSessionsOptions = Partial<Omit<SessionsOptions, "policy">> & {
  /** Merged over the default policy, whose sweep timer is off here. */
  policy?: Partial<SupervisorPolicy>;
};

/**
 * Runs `fn` with a {@link Sessions} on two real worker hosts and a fresh SQLite file in
 * `data/`, then stops it and removes the file.
 */
export async function withSessions(
  options: TestSessionsOptions,
  fn: (sessions: Sessions, databasePath: string) => Promise<void>,
): Promise<void> {
  await Deno.mkdir("data", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: "data" });
  const databasePath = `${dir}/s.db`;
  const { policy, ...rest } = options;
  const sessions = new Sessions({
    databasePath,
    hosts: 2,
    maxExchanges: MAX_EXCHANGES,
    onGiveUp: () => {},
    ...rest,
    policy: { ...DEFAULT_SUPERVISOR_POLICY, sweepMs: 0, ...policy },
  });
  try {
    await fn(sessions, databasePath);
  } finally {
    await sessions.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The texts of a window on loan, oldest first. */
export const texts = (contents: Content[]): string[] => contents.map((c) => c.parts[0].text ?? "");

/** What the flow shows for `line` in these tests. */
export const answerTo = (line: string): string => `answer to ${line}`;

/** Begins a turn and insists it was lent the window. */
export async function lease(
  sessions: Sessions,
  channelId: string,
  line: string,
  id: string = crypto.randomUUID(),
): Promise<Lease> {
  const begun = await sessions.begin(channelId, id, line);
  assert.ok(begun.ok, `turn "${line}" in ${channelId} not begun: ${JSON.stringify(begun)}`);
  return begun.lease;
}

/** One whole chat turn: begin, show {@link answerTo}, commit. Returns the lent window's texts. */
export async function say(sessions: Sessions, channelId: string, line: string): Promise<string[]> {
  const lent = await lease(sessions, channelId, line);
  assert.deepEqual(await lent.commit(answerTo(line)), { ok: true, recorded: true, unsaved: false });
  return texts(lent.contents);
}
