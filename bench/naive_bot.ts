/**
 * A deliberately naive reference bot, the yardstick of `bench/e2e.ts`: what a competent person
 * writes in an afternoon. One file; discordeno's `createBot`; each channel's history in a `Map`,
 * capped at the last 20 exchanges; one unary `generateContent` per mention; nothing persisted;
 * no queue, no quota, no streaming, no actors. It reads the same variables as SoyeBot
 * (`DISCORD_TOKEN`, `DISCORD_API_URL`, `GEMINI_API_KEY`, `GEMINI_API_URL`, `GEMINI_MODEL`).
 *
 * Run: `deno run -P=naive bench/naive_bot.ts`
 *
 * @module
 */
import { type Content, GoogleGenerativeAI } from "@google/generative-ai";
import { createBot, GatewayIntents } from "discordeno";

const MAX_EXCHANGES = 20;
const DISCORD_MAX_CHARS = 2000;
const SYSTEM_INSTRUCTION =
  "너는 디스코드 채팅방의 친근한 친구 소예야. 짧고 자연스러운 한국어 반말로 " +
  "대답해. 여러 사람이 이야기하니 각 메시지 앞의 이름을 보고 누가 말했는지 구분해.";

const token = Deno.env.get("DISCORD_TOKEN");
const geminiKey = Deno.env.get("GEMINI_API_KEY");
if (!token || !geminiKey) {
  console.error("naive_bot: set DISCORD_TOKEN and GEMINI_API_KEY");
  Deno.exit(2);
}

const model = new GoogleGenerativeAI(geminiKey).getGenerativeModel(
  {
    model: Deno.env.get("GEMINI_MODEL") ?? "gemini-3.5-flash-lite",
    systemInstruction: SYSTEM_INSTRUCTION,
  },
  { baseUrl: Deno.env.get("GEMINI_API_URL") },
);

/** Each channel's conversation, oldest first: user and model turns alternating. */
const histories = new Map<bigint, Content[]>();

const bot = createBot({
  token,
  intents: GatewayIntents.GuildMessages | GatewayIntents.DirectMessages |
    GatewayIntents.MessageContent,
  desiredProperties: {
    message: { id: true, channelId: true, content: true, author: true, mentions: true },
    user: { id: true, username: true, toggles: true },
  },
  events: {
    async messageCreate(message) {
      if (message.author.bot || !message.mentionedUserIds.includes(bot.id)) return;
      const text = message.content.replace(/<@!?\d+>/g, "").trim();
      if (!text) return;
      const history = histories.get(message.channelId) ?? [];
      histories.set(message.channelId, history);
      const turn: Content = {
        role: "user",
        parts: [{ text: `${message.author.username}: ${text}` }],
      };
      let reply: string;
      try {
        const result = await model.generateContent({ contents: [...history, turn] });
        reply = result.response.text();
        history.push(turn, { role: "model", parts: [{ text: reply }] });
        if (history.length > MAX_EXCHANGES * 2) {
          history.splice(0, history.length - MAX_EXCHANGES * 2);
        }
      } catch (error) {
        console.error(`naive_bot: Gemini failed: ${error}`);
        reply = "앗, 지금은 대답할 수 없어. 잠시 후에 다시 불러줘.";
      }
      try {
        await bot.helpers.sendMessage(message.channelId, {
          content: reply.slice(0, DISCORD_MAX_CHARS),
          allowedMentions: { parse: [], repliedUser: false },
          messageReference: { messageId: message.id, failIfNotExists: false },
        });
      } catch (error) {
        console.error(`naive_bot: could not reply: ${error}`);
      }
    },
  },
});

const apiUrl = Deno.env.get("DISCORD_API_URL");
if (apiUrl) {
  // Set after creation: a custom URL given to createBot would switch off the rate-limit queue.
  bot.rest.baseUrl = apiUrl;
  bot.rest.isProxied = false;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, async () => {
    await bot.shutdown();
    Deno.exit(0);
  });
}

await bot.start();
console.log("naive_bot: connected");
