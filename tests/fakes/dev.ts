/**
 * `deno task dev`: the real bot against the local fake Discord and fake Gemini, no credentials
 * needed. A scripted conversation plays in the console; on a terminal, type more lines to say
 * them in the channel (Ctrl-C to stop).
 *
 * @module
 */
import { delay, World } from "../harness.ts";
import type { GenerateRequest } from "./fake_gemini.ts";

const CHANNEL = "1200000000000000042";
const GUILD = "1300000000000000042";
const USER = "민수";

const LINES = [
  "응 왜.",
  "귀찮은데… 그래도 들어는 줄게.",
  "ㅋㅋ 그건 좀 웃기네.",
  "몰라, 그건 직접 찾아봐.",
  "오늘 방송 켤까 말까 고민 중이야.",
];

/** A 소예-ish fake reply: a canned line, then an echo so the history is visible. */
function responder(request: GenerateRequest): string {
  const turns = request.contents?.length ?? 1;
  const said = request.lastUserText.replace(/^[^:]+:\s*/, "");
  if (request.systemInstruction && JSON.stringify(request.systemInstruction).includes("요약")) {
    return "- 민수가 소예한테 인사하고 근황을 물어봄\n- 소예는 방송 얘기로 넘어감";
  }
  return `${LINES[(turns - 1) / 2 % LINES.length]} (기억하는 대화 ${
    (turns - 1) / 2
  }개, 방금 "${said}")`;
}

const world = await World.create({ gemini: { responder }, dataDir: "data/dev" });
console.log("Fake Discord:", world.discord.url, " Fake Gemini:", world.gemini.url);
// A looser per-user limit than production: the demo is one person typing quickly.
const bot = await world.startBot(
  { LOG_LEVEL: "info", LOG_FORMAT: "text", USER_RATE_LIMIT: "30" },
  { echo: true },
);
console.log("\nThe bot is connected. Conversation in #dev:\n");

async function say(content: string): Promise<void> {
  const before = world.discord.messagesIn(CHANNEL).length;
  const isCommand = content.startsWith("!");
  console.log(`\x1b[36m${USER} ▶ ${content}\x1b[0m`);
  await world.discord.sendUserMessage({
    channelId: CHANNEL,
    guildId: GUILD,
    content,
    username: USER,
    authorId: "1400000000000000001",
    mentionsBot: !isCommand,
  });
  // Wait for the bot's reply to appear and stop changing (it streams by editing).
  let last = "";
  let stableSince = Date.now();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    await delay(100);
    const replies = world.discord.messagesIn(CHANNEL).slice(before + 1)
      .filter((m) => m.author.bot && !m.deleted);
    const shown = replies.map((m) => m.content).join("\n");
    if (shown !== last) {
      last = shown;
      stableSince = Date.now();
    } else if (shown && Date.now() - stableSince > 1500) break;
  }
  console.log(`\x1b[35m소예 ◀ ${last || "(no reply)"}\x1b[0m\n`);
}

for (const line of ["안녕? 너 누구야", "오늘 뭐 했어?", "방금 내가 뭐라고 했지?", "!요약 10분"]) {
  await say(line);
}

const stop = async () => {
  console.log("\nStopping…");
  await bot.stop("SIGTERM");
  await world.close({ keepData: true });
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);

if (Deno.stdin.isTerminal()) {
  console.log("Type a message and press Enter (Ctrl-C to stop):");
  const decoder = new TextDecoder();
  for await (const chunk of Deno.stdin.readable) {
    for (const line of decoder.decode(chunk).split("\n").map((l) => l.trim()).filter(Boolean)) {
      await say(line);
    }
  }
}
await stop();
