/**
 * Gemini: the client the broker calls and what it speaks.
 *
 * Owns the port every Gemini client implements (requests, contents, usage), the SDK client over
 * `@google/generative-ai` (read chunk by chunk, so nothing of a streamed answer is lost), the
 * classification of its errors, one call cut after a silence, file uploads, and the model list.
 * Imports nothing of the bot but the shared base: a Gemini change stays in this folder.
 *
 * @module
 */
export { callWithSilenceLimit } from "./call.ts";
export { SdkGeminiClient } from "./client.ts";
export type { Part } from "./client.ts";
export {
  BLOCK_REASONS,
  classifyGeminiError,
  isUnusualFinish,
  serverWords,
  shortMessage,
} from "./errors.ts";
export type { GeminiFailure } from "./errors.ts";
export { SdkFileStore, withFileUploads } from "./files.ts";
export {
  CURRENT_MODELS,
  DEFAULT_MODEL,
  lightestLevel,
  modelFacts,
  THINKING_LEVELS,
} from "./model_facts.ts";
export type { ModelFacts, ThinkingLevel } from "./model_facts.ts";
export { listGenerateModels, modelGoneMessage, ModelNotFoundError, ModelWatch } from "./models.ts";
export { sourcesLine } from "./parts.ts";
export { GeminiTimeoutError } from "./port.ts";
export type { Content, GeminiClient, Grounding, ModelPart, Usage } from "./port.ts";
export { ThinkingFallback } from "./thinking.ts";
