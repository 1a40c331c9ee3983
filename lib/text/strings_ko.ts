/**
 * Every user-facing string, in Korean, in one place: the bot's voice stays consistent and a
 * translator has one file to read.
 *
 * @module
 */
import { BLOCK_REASONS, isUnusualFinish } from "../gemini/mod.ts";

/**
 * How an answer ended, in plain fields: a broker's result reads as one. The strings take plain
 * values, never another part's types, so that every part may use them.
 */
export interface AnswerOutcome {
  /** True when the model answered. */
  ok: boolean;
  /** Why it did not: `day_quota`, `blocked`, `interrupted`, `rejected`, `stopped`, … */
  reason?: string;
  /** When the daily quota comes back (epoch ms), for `day_quota`. */
  retryAt?: number;
  /** The HTTP status of a refusal, for `rejected`. */
  status?: number;
}

/** A file refused before it was fetched, in plain fields: an attachment plan's problem reads as one. */
export type RefusedFile =
  | { kind: "count"; filename: string; max: number }
  | { kind: "unsupported"; filename: string }
  | { kind: "too_large"; filename: string; maxBytes: number }
  | { kind: "total"; filename: string; maxTotalBytes: number };

const SUMMARY_USAGE = "사용법: `!요약`, `!요약 20분`, `!요약 1시간 30분`, " +
  "`!요약 <메시지ID> 이후 30분`, `!요약 <메시지ID> 이전 1시간`";

/** User-facing texts. Functions take the figures they show. */
export const text = {
  emptyMention: "응? 부를 거면 할 말도 같이 적어줘.",
  waiting: (seconds: number) =>
    seconds > 0
      ? `⏳ 지금 줄 서 있는 중이야. 약 ${seconds}초 뒤에 대답할게.`
      : "⏳ 곧 대답할게, 조금만.",
  dayQuota: (resetText: string) =>
    `오늘 쓸 수 있는 대화량을 다 써버렸어. ${resetText} 이후에 다시 불러줘.`,
  blocked: "그건 대답 못 해. 다른 얘기 하자.",
  interrupted: "_(대답이 중간에 끊겼어)_",
  /** Under an answer someone stopped with its button. */
  stoppedMark: "_(중단됨)_",
  /** Before the links under an answer grounded in Google Search. */
  sourcesLabel: "출처",
  /** The stop button on an answer that is still streaming. */
  stopButton: "그만",
  /** To someone who pressed another person's stop button without Manage Messages. */
  stopRefused: "이 대답은 물어본 사람이나 메시지 관리 권한이 있는 사람만 멈출 수 있어.",
  /** The model answered with nothing but whitespace. */
  emptyAnswer: "음, 할 말이 안 떠올랐어. 조금 다르게 다시 물어봐줄래?",
  /** Discord kept refusing the answer's final text, so the user saw it only in part or not at all. */
  replyNotShown: "_(디스코드가 말을 안 들어서 대답을 다 못 보여줬어. 다시 물어봐줄래?)_",
  /** Under an answer the model stopped early because it hit its length limit. */
  cutByLength: "_(너무 길어져서 여기까지만 말할게)_",
  /** Under an answer Gemini's filters stopped partway. */
  cutByFilter: "_(여기부터는 말할 수 없게 막혔어)_",
  /**
   * Gemini ended the answer for a reason of its own (`MALFORMED_RESPONSE`,
   * `MISSING_THOUGHT_SIGNATURE`, …): alone when nothing came, under the text when some did.
   */
  modelFault: "음, 대답을 만들다가 꼬였어. 한 번만 다시 말해줄래?",
  cutByFault: "_(대답을 만들다가 꼬여서 여기까지만 했어)_",
  unavailable: "지금 머리가 좀 안 돌아가. 잠깐 뒤에 다시 말 걸어줘.",
  rejected: "지금은 대답을 못 만들어. 관리자한테 설정 좀 봐달라고 해줘.",
  /** The configured Gemini model is gone (404): retired or misspelt; the log lists the others. */
  modelGone: "지금 쓰는 AI 모델이 없어졌대. 관리자한테 모델 설정을 바꿔달라고 해줘.",
  /** `!요약` or `/summarize` in a server whose admins turned summaries off. */
  summariesOff: "이 서버에서는 요약 기능이 꺼져 있어.",
  crashed: "앗, 방금 건 놓쳤어. 한 번만 다시 말해줄래?",
  stopping: "나 지금 재시작하는 중이야. 조금 있다가 다시 불러줘.",
  unanswered: "방금 재시작하느라 이 메시지엔 대답을 못 했어. 다시 말해줄래?",
  /** Said once per channel while the store can't write: the answers above are in memory only. */
  unsaved: "_(저장 공간에 문제가 있어서 지금 대화가 저장되지 않고 있어. " +
    "그동안 내가 재시작되면 이 대화는 기억 못 해.)_",
  rateLimited: (seconds: number) => `너무 빨라. ${seconds}초만 쉬었다가 말 걸어줘.`,
  resetDone: "이 채널 대화 기록 지웠어. 처음부터 다시 하자.",
  /** A slash command the bot does not know (a stale registration). */
  commandUnknown: "그 명령은 이제 없어. `/help`로 쓸 수 있는 명령을 확인해줘.",
  /** A slash command that came without a channel the bot can work in. */
  commandNeedsChannel: "이 명령은 채널 안에서만 쓸 수 있어.",
  /** A slash command that failed before it could answer. */
  commandFailed: "명령을 처리하다가 문제가 생겼어. 잠깐 뒤에 다시 해줘.",
  /** The commands users type in a channel, as the bot recognises them. */
  textCommands: { help: "!도움말", summarize: "!요약" },
  /** Korean names and descriptions of the slash commands, as Discord shows them to Korean users. */
  commands: {
    summarize: {
      name: "요약",
      description: "이 채널의 최근 대화를 요약해",
      minutes: "몇 분 전까지 (기본 30분)",
      after: "이 메시지 ID 이후부터 요약",
      before: "이 메시지 ID 이전까지 요약 (분 필요)",
    },
    reset: "이 채널의 대화 기록을 지워",
    help: "사용법",
    status: "대기열, 사용량, 세션 상태",
    settings: {
      name: "설정",
      description: "이 서버에서 소예가 하는 일을 정해 (서버 관리 권한 필요)",
      persona: "이 서버만의 페르소나 (비우면 기본으로)",
      personaText: "페르소나 내용, 2500자까지 (비우면 기본 페르소나)",
      channel: "채널마다 멘션할 때만 대답할지, 모든 메시지에 대답할지",
      channelChannel: "정할 채널",
      channelMode: "mention: 멘션할 때만, always: 모든 메시지에",
      modeMention: "멘션할 때만",
      modeAlways: "모든 메시지에",
      summaries: "!요약과 /summarize를 켜거나 꺼",
      summariesEnabled: "켜려면 True",
      search: "대답할 때 구글 검색을 쓰고 출처를 보여줄지 정해 (검색마다 요금이 들 수 있어)",
      searchEnabled: "켜려면 True",
    },
  },
  help: [
    "**소예 사용법**",
    "- 나를 멘션하거나 내 메시지에 답장하면 대답해.",
    "- `!요약`: 최근 30분 대화 요약 (`!요약 20분`, `!요약 1시간30분`)",
    "- `!요약 <메시지ID> 이후`, `!요약 <메시지ID> 이후 30분`, `!요약 <메시지ID> 이전 1시간`",
    "- `/summarize`, `/reset` (이 채널 대화 기록 지우기), `/status`, `/help`",
    "- `/settings` (서버 관리자만): 서버 페르소나, 채널마다 대답 방식, 요약 켜기/끄기",
  ].join("\n"),
  /** Answers to `/settings`. */
  settings: {
    /** A member without Manage Server. */
    refused: "이 설정은 서버 관리 권한이 있는 사람만 바꿀 수 있어.",
    /** `/settings` in a DM. */
    guildOnly: "설정은 서버 안에서만 바꿀 수 있어.",
    personaSet: (chars: number) => `이 서버 페르소나를 바꿨어 (${chars}자). 다음 대답부터 적용돼.`,
    personaReset: "이 서버 페르소나를 기본으로 돌려놨어.",
    personaTooLong: (max: number, chars: number) =>
      `페르소나는 ${max}자까지만 돼. 지금 ${chars}자야.`,
    channelAlways: (channelId: string) => `이제 <#${channelId}>에서는 모든 메시지에 대답할게.`,
    channelMention: (channelId: string) => `이제 <#${channelId}>에서는 멘션할 때만 대답할게.`,
    summariesOn: "이 서버에서 요약 기능을 켰어.",
    summariesOff: "이 서버에서 요약 기능을 껐어.",
    searchOn: "이 서버에서 대답할 때 구글 검색을 쓸게. 출처는 대답 아래에 붙일게.",
    searchOff: "이 서버에서는 구글 검색을 안 쓸게.",
    /** Under a `/settings search` answer while the operator's `GEMINI_SEARCH=off` overrides it. */
    searchOperatorOff: "-# 지금은 운영자가 검색을 전체적으로 꺼놔서, 다시 켤 때까지는 검색 안 해.",
    /** Under a `/settings search` answer while the operator's `GEMINI_SEARCH=always` overrides it. */
    searchOperatorAlways: "-# 지금은 운영자가 모든 서버에 검색을 켜놔서, 그동안은 계속 검색해.",
    /** The option values did not make sense (a stale registration, a malformed payload). */
    invalid: "설정 값을 못 알아들었어. `/settings`를 다시 써줘.",
    /** The channel option named a channel of another server (or one Discord did not resolve). */
    otherServerChannel: "이 서버의 채널만 정할 수 있어.",
    /** The store refused the write: nothing changed. */
    notSaved: "설정을 저장하지 못해서 아무것도 안 바꿨어. 잠깐 뒤에 다시 해줘.",
  },
  summaryHeaderRecent: (minutes: number, count: number) =>
    `**최근 ${minutes}분 ${count}개 메시지 요약:**`,
  summaryHeaderRange: (range: string, count: number) => `**${range} ${count}개 메시지 요약:**`,
  summaryNothing: "요약할 메시지가 없어.",
  summaryFailed: "요약을 못 만들었어. 잠깐 뒤에 다시 해줘.",
  /** Under a summary answered from the cache, made `minutes` ago (0: under a minute). */
  summaryCached: (minutes: number) =>
    minutes < 1 ? "_(방금 만든 요약이야)_" : `_(${minutes}분 전에 만든 요약이야)_`,
  /** A message range, as the summary header names it. */
  summaryRange: (
    range:
      | { kind: "after"; messageId: string; minutes?: number }
      | { kind: "before"; messageId: string; minutes: number },
  ) =>
    range.kind === "after"
      ? range.minutes === undefined
        ? `메시지 ${range.messageId} 이후`
        : `메시지 ${range.messageId} 이후 ${range.minutes}분`
      : `메시지 ${range.messageId} 이전 ${range.minutes}분`,
  /** Errors for a `!요약` or `/summarize` the bot can't read. */
  summaryErrors: {
    usage: `무슨 뜻인지 모르겠어. ${SUMMARY_USAGE}`,
    unit: "시간에는 단위를 붙여줘. 예: `!요약 20분`, `!요약 1시간`",
    messageId: "메시지 ID는 17~20자리 숫자야. 메시지를 우클릭해서 `ID 복사`로 가져와줘.",
    direction: "메시지 ID 뒤에 `이후`나 `이전`을 적어줘. 예: `!요약 <메시지ID> 이후 30분`",
    beforeNeedsTime: "이전 요약은 시간을 같이 적어줘. 예: `!요약 <메시지ID> 이전 1시간`",
    range: "시간은 1분부터 24시간(1440분)까지 정할 수 있어.",
    afterAndBefore: "`after`랑 `before` 중에 하나만 골라줘.",
  },
  /** When a spent daily quota comes back, `at` in epoch ms, or tomorrow when unknown. */
  resetTime: (at: number | undefined) => {
    if (at === undefined) return "내일";
    const time = new Intl.DateTimeFormat("ko-KR", {
      timeZone: "Asia/Seoul",
      hour: "numeric",
      minute: "2-digit",
    }).format(at);
    return `한국 시간 ${time}`;
  },
  /**
   * `/status`; a key's `checkInMs` is set while the server's refusal keeps it out of use, and
   * `server` (the server's settings) when it was used in a server.
   */
  status: (s: {
    queue: number;
    sessions: number;
    medianMs: number | undefined;
    keys: { keyId: string; minuteLeft: number; dayLeft: number; checkInMs?: number }[];
    server?: {
      personaChars?: number;
      alwaysChannelIds: string[];
      summaries: boolean;
      search: "on" | "off" | "operator_off" | "always";
    };
    search: { today: number; queriesToday: number; usdPer1000: number; freePerMonth: number };
  }) =>
    [
      "**상태**",
      `- 대기열: ${s.queue}건`,
      `- 활성 세션: ${s.sessions}개`,
      `- 응답 시간 중앙값: ${
        s.medianMs === undefined ? "아직 없음" : `${(s.medianMs / 1000).toFixed(1)}초`
      }`,
      ...s.keys.map((k) =>
        `- ${k.keyId}: 이번 분 ${k.minuteLeft}회, 오늘 ${k.dayLeft}회 남음${
          k.checkInMs === undefined ? "" : ` (${keyCheckText(k.checkInMs)})`
        }`
      ),
      `- 오늘 구글 검색: 답변 ${s.search.today}개, 검색 ${s.search.queriesToday}회 ` +
      `(한 달 ${s.search.freePerMonth.toLocaleString("en-US")}회 무료, 그 뒤 1,000회당 ` +
      `$${s.search.usdPer1000})`,
      ...(s.server === undefined ? [] : [
        "**이 서버 설정**",
        `- 페르소나: ${
          s.server.personaChars === undefined ? "기본" : `서버 전용 (${s.server.personaChars}자)`
        }`,
        `- 모든 메시지에 대답하는 채널: ${
          s.server.alwaysChannelIds.length === 0
            ? "없음 (멘션할 때만)"
            : s.server.alwaysChannelIds.map((id) => `<#${id}>`).join(", ")
        }`,
        `- 요약: ${s.server.summaries ? "켜짐" : "꺼짐"}`,
        `- 구글 검색: ${
          {
            on: "켜짐",
            off: "꺼짐",
            operator_off: "꺼짐 (운영자가 전체를 끔)",
            always: "켜짐 (운영자가 모든 서버에 켬)",
          }[s.server.search]
        }`,
      ]),
    ].join("\n"),
} as const;

/** When a key the server refused is tried again, as `/status` says it. */
function keyCheckText(inMs: number): string {
  const seconds = Math.ceil(inMs / 1000);
  if (seconds <= 0) return "서버가 거절해서 쉬는 중, 지금 다시 확인하고 있어";
  const after = seconds < 60 ? `${seconds}초` : `${Math.round(seconds / 60)}분`;
  return `서버가 거절해서 쉬는 중, 약 ${after} 뒤에 다시 확인해볼게`;
}

/**
 * What a user is told when Gemini gave no answer; `fallback` when it did answer, or could not
 * be reached.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(failureText({ ok: false, reason: "blocked" }), text.blocked);
 * ```
 */
export function failureText(result: AnswerOutcome, fallback: string = text.unavailable): string {
  if (result.ok) return fallback;
  switch (result.reason) {
    case "day_quota":
      return text.dayQuota(text.resetTime(result.retryAt));
    case "blocked":
      return text.blocked;
    case "interrupted":
      return text.interrupted;
    case "rejected":
      // A 404 on a generate call is the model itself: retired or misspelt.
      return result.status === 404 ? text.modelGone : text.rejected;
    case "stopped":
      return text.stopping;
    case "cancelled":
      return text.stoppedMark;
    default:
      // "unavailable": retries ran out, or the answer could not start in time.
      return fallback;
  }
}

/**
 * The marker shown under an answer that Gemini stopped partway (`finishReason` other than STOP),
 * or undefined for a complete one.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(cutShortText("MAX_TOKENS"), text.cutByLength);
 * strictEqual(cutShortText("STOP"), undefined);
 * ```
 */
export function cutShortText(finishReason: string | undefined): string | undefined {
  switch (finishReason) {
    case undefined:
    case "STOP":
    case "FINISH_REASON_UNSPECIFIED":
      return undefined;
    case "MAX_TOKENS":
      return text.cutByLength;
    default:
      // SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, …: the filters stopped it. Any
      // other (MALFORMED_RESPONSE, MISSING_THOUGHT_SIGNATURE, OTHER, …): the model went wrong.
      return BLOCK_REASONS.has(finishReason) ? text.cutByFilter : text.cutByFault;
  }
}

/**
 * What a user is told when an answer came with no text: the model went wrong when it ended for
 * an unusual reason (`MALFORMED_RESPONSE`, …), else it had nothing to say.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(emptyAnswerText("MISSING_THOUGHT_SIGNATURE"), text.modelFault);
 * strictEqual(emptyAnswerText("STOP"), text.emptyAnswer);
 * ```
 */
export function emptyAnswerText(finishReason: string | undefined): string {
  return isUnusualFinish(finishReason) ? text.modelFault : text.emptyAnswer;
}

/**
 * What a user is told when a message or `/reset` did not get through to their channel's session
 * (`error`: the session's, `stopping`, `crashed`, …).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(deliveryFailureText("stopping"), text.stopping);
 * ```
 */
export function deliveryFailureText(error: string): string {
  return error === "stopping" ? text.stopping : text.crashed;
}

/** Sizes as people read them: `20MB`, `500KB`, `900B`. */
function sizeText(bytes: number): string {
  const mb = 1024 * 1024;
  if (bytes >= mb) return `${Math.round((bytes / mb) * 10) / 10}MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)}KB`;
  return `${bytes}B`;
}

/**
 * What a user is told about the files on their message, and the notes the model reads about a
 * reply. Each refusal names the file (already made safe by `displayName`).
 */
export const attachmentText = {
  /** A file refused before it was fetched: too many, unsupported, or too big. */
  refused: (problem: RefusedFile, name: string) => {
    switch (problem.kind) {
      case "count":
        return `파일은 한 번에 ${problem.max}개까지만 볼 수 있어. \`${name}\`부터는 빼고 다시 보내줘.`;
      case "unsupported":
        return `\`${name}\` 파일은 내가 읽을 수 없는 형식이야. 사진, PDF, 음성, 텍스트·코드 파일만 볼 수 있어.`;
      case "too_large":
        return `\`${name}\` 파일은 너무 커. 파일 하나에 ${
          sizeText(problem.maxBytes)
        }까지만 볼 수 있어.`;
      case "total":
        return `파일이 합쳐서 너무 커 (\`${name}\`에서 넘었어). 모두 합쳐 ${
          sizeText(problem.maxTotalBytes)
        }까지만 볼 수 있어.`;
    }
  },
  /** Discord's CDN did not give the file. */
  fetchFailed: (name: string) => `\`${name}\` 파일을 못 받아왔어. 잠깐 뒤에 다시 보내줘.`,
  /** The file's URL is not on Discord's CDN: the bot fetches nothing from anywhere else. */
  notFromDiscord: (name: string) =>
    `\`${name}\` 파일은 디스코드에 올라온 파일이 아니라서 못 받아와. 디스코드에 직접 올려줄래?`,
  /** The CDN took too long. */
  fetchTimedOut: (name: string) =>
    `\`${name}\` 파일을 받아오는 데 너무 오래 걸려서 그만뒀어. 다시 보내줄래?`,
  /** The bytes are not what the type said (a "text" file that is binary, a broken GIF). */
  unreadable: (name: string) =>
    `\`${name}\` 파일을 열어봤는데 읽을 수가 없었어. 파일이 괜찮은지 확인해줄래?`,
  /** A GIF whose canvas or frame has more pixels than the bot converts. */
  imageTooLarge: (name: string) =>
    `\`${name}\` 그림은 너무 커서 못 열어. 더 작은 크기로 다시 보내줄래?`,
  /** The bytes are not the type the file claims (an HTML page named `photo.png`). */
  notWhatItSays: (name: string) =>
    `\`${name}\` 파일은 이름이랑 내용이 달라서 못 읽겠어. 원래 파일을 다시 보내줄래?`,
  /** The download ran past the size Discord gave for the file. */
  largerThanSaid: (name: string) =>
    `\`${name}\` 파일이 알려진 크기보다 커서 받다가 그만뒀어. 다시 올려줄래?`,
  /** Every turn's files together fill the bot's room for files, and none freed up in time. */
  busy: "지금 다른 파일들을 보느라 자리가 없어. 조금 뒤에 다시 보내줘.",
  /** Gemini would not take the file (the upload was refused, or the call said 400 with files). */
  notSent: (name: string | undefined) =>
    name === undefined
      ? "첨부한 파일을 AI가 받아주지 않았어. 파일을 확인하고 다시 보내주거나, 파일 없이 물어봐줘."
      : `\`${name}\` 파일을 AI가 받아주지 않았어. 파일을 확인하고 다시 보내주거나, 파일 없이 물어봐줘.`,
  /** Model-facing: a file of the message replied to that was not sent (video, too big, …). */
  droppedNote: (name: string) => `[첨부: ${name} (보이지 않음)]`,
  /** Model-facing: the message replied to, kept short in the window. */
  replyQuote: (author: string, quote: string, notes: string) =>
    `[${author}의 메시지에 답장: "${quote}"${notes ? ` ${notes}` : ""}]`,
  /** Model-facing: the whole text of a long message replied to, for this turn only. */
  replyFull: (author: string) => `[답장한 ${author}의 메시지 전문]`,
  /** Stored in the window: a forwarded message (no author: Discord's snapshot has none). */
  forwardQuote: (quote: string, notes: string) =>
    `[전달한 메시지: "${quote}"${notes ? ` ${notes}` : ""}]`,
  /** Model-facing: the whole text of a long forwarded message, for this turn only. */
  forwardFull: "[전달한 메시지 전문]",
  /** A file whose link Discord no longer serves, even after the message was read again. */
  expired: (name: string) => `\`${name}\` 파일 링크가 만료돼서 못 받아왔어. 파일을 다시 올려줄래?`,
} as const;
