/**
 * Every user-facing string, in Korean, in one place: the bot's voice stays consistent and a
 * translator has one file to read.
 *
 * @module
 */

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
  unavailable: "지금 머리가 좀 안 돌아가. 잠깐 뒤에 다시 말 걸어줘.",
  rejected: "지금은 대답을 못 만들어. 관리자한테 설정 좀 봐달라고 해줘.",
  crashed: "앗, 방금 건 놓쳤어. 한 번만 다시 말해줄래?",
  stopping: "나 지금 재시작하는 중이야. 조금 있다가 다시 불러줘.",
  rateLimited: (seconds: number) => `너무 빨라. ${seconds}초만 쉬었다가 말 걸어줘.`,
  resetDone: "이 채널 대화 기록 지웠어. 처음부터 다시 하자.",
  help: [
    "**소예 사용법**",
    "- 나를 멘션하거나 내 메시지에 답장하면 대답해.",
    "- `!요약`: 최근 30분 대화 요약 (`!요약 20분`, `!요약 1시간30분`)",
    "- `!요약 <메시지ID> 이후`, `!요약 <메시지ID> 이후 30분`, `!요약 <메시지ID> 이전 1시간`",
    "- `/summarize`, `/reset` (이 채널 대화 기록 지우기), `/status`, `/help`",
  ].join("\n"),
  summaryHeaderRecent: (minutes: number, count: number) =>
    `**최근 ${minutes}분 ${count}개 메시지 요약:**`,
  summaryHeaderRange: (range: string, count: number) => `**${range} ${count}개 메시지 요약:**`,
  summaryNothing: "요약할 메시지가 없어.",
  summaryFailed: "요약을 못 만들었어. 잠깐 뒤에 다시 해줘.",
  status: (s: {
    queue: number;
    sessions: number;
    medianMs: number | undefined;
    keys: { keyId: string; minuteLeft: number; dayLeft: number }[];
  }) =>
    [
      "**상태**",
      `- 대기열: ${s.queue}건`,
      `- 활성 세션: ${s.sessions}개`,
      `- 응답 시간 중앙값: ${
        s.medianMs === undefined ? "아직 없음" : `${(s.medianMs / 1000).toFixed(1)}초`
      }`,
      ...s.keys.map((k) => `- ${k.keyId}: 이번 분 ${k.minuteLeft}회, 오늘 ${k.dayLeft}회 남음`),
    ].join("\n"),
} as const;
