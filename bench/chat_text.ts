/**
 * Deterministic chat lines for the benchmarks, so that every run sends the same text: Korean and
 * English mixed (`bench/sessions.ts`) or Korean alone (`bench/e2e.ts`).
 *
 * @module
 */

/** Korean chat sentences, for {@linkcode chatLine}. */
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
/** English chat sentences, for {@linkcode chatLine}. */
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

/** Korean chat sentences, for {@linkcode koreanLine} (a set of its own: the e2e figures were taken with it). */
const SENTENCES = [
  "오늘 점심 뭐 먹었어? 나는 회사 앞 김치찌개 집 갔는데 생각보다 괜찮더라.",
  "어제 말한 그 배포 스크립트 말이야, 아직 테스트를 못 돌려봤어.",
  "주말에 비 온다던데 한강 가는 건 다음 주로 미룰까?",
  "그 영화 결말 진짜 예상 못 했어. 마지막 장면에서 소름 돋았잖아.",
  "요즘 잠을 너무 늦게 자서 아침마다 커피 두 잔은 마셔야 정신이 들어.",
  "회의록 정리해서 채널에 올려둘게. 빠진 거 있으면 말해줘.",
  "고양이가 키보드 위에 올라가서 코드 반쯤 지워버렸어, 다행히 커밋은 해뒀지.",
  "이번 분기 목표는 응답 시간을 절반으로 줄이는 거래. 가능할까?",
  "동생이 새 게임을 샀는데 밤새 하더니 오늘 학교에 지각했대.",
  "퇴근길 지하철이 너무 붐벼서 한 정거장 먼저 내려서 걸어왔어.",
];

/** A deterministic Korean chat line of about `chars` characters. */
export function koreanLine(seed: number, chars = 300): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < chars - 40; i++) {
    const sentence = SENTENCES[(seed * 7 + i * 3) % SENTENCES.length];
    parts.push(sentence);
    length += sentence.length + 1;
  }
  return parts.join(" ");
}
