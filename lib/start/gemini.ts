/**
 * The Gemini side of the start: the client stack the broker calls (SDK, file uploads, tracing),
 * the start-up check of every key with the configured model, and the watch that names the models
 * left when the configured one is retired while the bot runs.
 *
 * @module
 */
import type { KeyCheck } from "../broker/mod.ts";
import type { Config } from "../config/mod.ts";
import {
  type GeminiClient,
  listGenerateModels,
  modelGoneMessage,
  ModelNotFoundError,
  ModelWatch,
  SdkFileStore,
  SdkGeminiClient,
  ThinkingFallback,
  withFileUploads,
} from "../gemini/mod.ts";
import type { Logger } from "../log.ts";
import type { GeminiTracing } from "../ops/mod.ts";

/** The configuration the Gemini start reads. */
export type GeminiSetupConfig = Pick<Config, "geminiApiUrl" | "geminiModel" | "attachments">;

/** The keys as the pool has them, by id. */
export type KeyList = () => readonly { keyId: string; key: string }[];

/**
 * The client the broker calls: the SDK, with large files uploaded first, traced per request, and
 * a thinking level the model refuses learned once (WARN) and left out from then on.
 */
export function geminiClient(
  config: GeminiSetupConfig,
  tracing: GeminiTracing,
  logger: Logger,
): GeminiClient {
  // Tracing outside the uploads: it follows a request by its contents, which uploads replace.
  return tracing.wrap(
    withFileUploads(
      new ThinkingFallback(new SdkGeminiClient({ baseUrl: config.geminiApiUrl }), {
        onLearned: (model, level, why) =>
          logger.warn(
            "Gemini model {model} refuses thinking level {level}; its calls go without one " +
              "from now on (set GEMINI_THINKING to a level it takes): {why}",
            { model, level, why },
          ),
      }),
      new SdkFileStore({ baseUrl: config.geminiApiUrl }),
      {
        inlineMaxBytes: config.attachments.inlineMaxBytes,
        onDeleteError: (error) =>
          logger.info("Uploaded file not deleted (it expires in 48 h): {error}", {
            error: String(error),
          }),
      },
    ),
  );
}

/**
 * Checks every key with the configured model (`verifyKeys`, the broker's), logging each result.
 * Throws {@linkcode ModelNotFoundError}, naming the models the key can use, when the model
 * answered 404 and no key passed; a Gemini that cannot be reached leaves the checks to the first
 * calls.
 */
export async function verifyGemini(
  verifyKeys: () => Promise<KeyCheck[]>,
  keys: KeyList,
  config: GeminiSetupConfig,
  logger: Logger,
): Promise<void> {
  const checks = await verifyKeys().catch((error) => {
    logger.warn("Gemini key check failed: {error}", { error: String(error) });
    return [];
  });
  for (const check of checks) {
    if (check.ok) logger.info("Gemini key checked: {message}", { ...check });
    else logger.error("Gemini key failed its start-up check: {message}", { ...check });
  }
  const notFound = checks.find((check) => check.status === 404);
  if (notFound === undefined || checks.some((check) => check.ok)) return;
  const key = keys().find((k) => k.keyId === notFound.keyId)!.key;
  const available = await listGenerateModels(config.geminiApiUrl, key)
    .catch((error) => error instanceof Error ? error : new Error(String(error)));
  throw new ModelNotFoundError(modelGoneMessage(config.geminiModel, available));
}

/**
 * A {@linkcode ModelWatch} that logs, once, that the configured model is gone, with the models the
 * first key can use.
 */
export function watchModel(config: GeminiSetupConfig, keys: KeyList, logger: Logger): ModelWatch {
  return new ModelWatch(() => {
    const key = keys()[0].key;
    void listGenerateModels(config.geminiApiUrl, key)
      .catch((error) => error instanceof Error ? error : new Error(String(error)))
      .then((available) =>
        logger.error(modelGoneMessage(config.geminiModel, available), {
          model: config.geminiModel,
        })
      );
  });
}
