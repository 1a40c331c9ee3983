/**
 * Large attachments through the Gemini Files API: a {@link GeminiClient} wrapper that uploads
 * each inline part too big to send inline, with the key the call is made with, just before the
 * call, and deletes the uploads once the call has settled.
 *
 * Why at the client and not in the message flow: an uploaded file belongs to the key's project,
 * and the broker picks the key per attempt (keys may be in different projects), so only the call
 * knows which key may read the file. Each attempt uploads again; deleting after every call keeps
 * nothing behind, and the Files API's own 48-hour expiry covers a delete that failed or a
 * process that died.
 *
 * With `lib/gemini/client.ts`, the only module that imports `@google/generative-ai`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { GoogleAIFileManager, type RequestOptions } from "@google/generative-ai/server";
import type { Content, GeminiClient, GenerateRequest, GenerateResult, Part } from "./client.ts";

/** An uploaded file, as a `fileData` part names it. */
export interface UploadedFile {
  /** `files/...`, for deleting it. */
  name: string;
  /** The URI a `fileData` part points at. */
  uri: string;
  /** Its media type. */
  mimeType: string;
}

/** Where large files go. Small, so tests can stand in for the SDK. */
export interface FileStore {
  /** Uploads `bytes` with `apiKey`; rejects with the SDK's error (it carries `status`). */
  upload(
    file: { apiKey: string; bytes: Uint8Array; mimeType: string },
    signal?: AbortSignal,
  ): Promise<UploadedFile>;
  /** Deletes an upload. */
  remove(apiKey: string, name: string): Promise<void>;
}

/**
 * Gemini caps a request at 20 MB, and base64 grows bytes by a third: inline parts together stay
 * under this many raw bytes, the largest going to the Files API first.
 */
export const INLINE_REQUEST_MAX_BYTES = 14 * 1024 * 1024;

/** How often, and how many times, an upload still PROCESSING is looked at again. */
const PROCESSING_POLL_MS = 500;
const PROCESSING_POLLS = 20;

/** A {@link FileStore} over the SDK's `GoogleAIFileManager`. */
export class SdkFileStore implements FileStore {
  #baseUrl: string;

  /** Uploads to the API at `baseUrl`. */
  constructor(options: { baseUrl: string }) {
    this.#baseUrl = options.baseUrl;
  }

  async upload(
    file: { apiKey: string; bytes: Uint8Array; mimeType: string },
    signal?: AbortSignal,
  ): Promise<UploadedFile> {
    // The SDK reads `signal` from these options at run time though its type leaves it out; it
    // ends the upload's fetch when the call is abandoned.
    const manager = new GoogleAIFileManager(file.apiKey, {
      baseUrl: this.#baseUrl,
      signal,
    } as RequestOptions);
    const bytes = Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength);
    let uploaded = (await manager.uploadFile(bytes, { mimeType: file.mimeType })).file;
    for (let poll = 0; uploaded.state === "PROCESSING" && poll < PROCESSING_POLLS; poll++) {
      await new Promise((resolve) => setTimeout(resolve, PROCESSING_POLL_MS));
      signal?.throwIfAborted();
      uploaded = await manager.getFile(uploaded.name, { signal });
    }
    if (uploaded.state !== "ACTIVE") {
      throw Object.assign(new Error(`uploaded file is ${uploaded.state}`), { status: 500 });
    }
    return { name: uploaded.name, uri: uploaded.uri, mimeType: uploaded.mimeType };
  }

  async remove(apiKey: string, name: string): Promise<void> {
    await new GoogleAIFileManager(apiKey, { baseUrl: this.#baseUrl }).deleteFile(name);
  }
}

/** Options for {@linkcode withFileUploads}. */
export interface FileUploadOptions {
  /** An inline part larger than this many bytes is uploaded instead. */
  inlineMaxBytes: number;
  /** Inline bytes one request may carry. @default INLINE_REQUEST_MAX_BYTES */
  requestInlineMaxBytes?: number;
  /** Told when deleting an upload failed; it expires on its own. */
  onDeleteError?(error: unknown): void;
}

/**
 * Wraps `client` so that its `generate` sends large inline parts as uploaded files.
 *
 * @example
 * ```ts ignore
 * const client = withFileUploads(new SdkGeminiClient({ baseUrl }), new SdkFileStore({ baseUrl }), {
 *   inlineMaxBytes: 4 * 1024 * 1024,
 * });
 * ```
 */
export function withFileUploads(
  client: GeminiClient,
  files: FileStore,
  options: FileUploadOptions,
): GeminiClient {
  const requestMax = options.requestInlineMaxBytes ?? INLINE_REQUEST_MAX_BYTES;
  // A part's bytes, decoded from its base64 once for all of the call's attempts (the broker
  // retries with the same parts); gone with the part when the turn ends.
  const decoded = new WeakMap<Part, Uint8Array>();
  const bytesOf = (part: InlinePart): Uint8Array => {
    let bytes = decoded.get(part);
    if (!bytes) {
      bytes = Buffer.from(part.inlineData.data, "base64");
      decoded.set(part, bytes);
    }
    return bytes;
  };
  return {
    generate: async (request: GenerateRequest): Promise<GenerateResult> => {
      const chosen = partsToUpload(request.contents, options.inlineMaxBytes, requestMax);
      if (chosen.size === 0) return await client.generate(request);
      const uploaded: UploadedFile[] = [];
      let settled = false;
      const remove = (file: UploadedFile) =>
        files.remove(request.apiKey, file.name).catch((error) => options.onDeleteError?.(error));
      try {
        const replaced = new Map<Part, Part>();
        await Promise.all([...chosen].map(async (part) => {
          const { mimeType } = (part as InlinePart).inlineData;
          const bytes = bytesOf(part as InlinePart);
          const upload = files.upload({ apiKey: request.apiKey, bytes, mimeType }, request.signal)
            .catch((error) => Promise.reject(asFileError(error)));
          // An upload that lands after the call gave up is deleted as soon as it lands.
          upload.then((file) => void (settled ? remove(file) : uploaded.push(file)), () => {});
          const file = await abortable(upload, request.signal);
          replaced.set(part, { fileData: { mimeType: file.mimeType, fileUri: file.uri } });
        }));
        const contents: Content[] = request.contents.map((content) => ({
          ...content,
          parts: content.parts.map((part) => replaced.get(part) ?? part),
        }));
        return await client.generate({ ...request, contents });
      } finally {
        settled = true;
        for (const file of uploaded) void remove(file);
      }
    },
    cacheSystemInstruction: (request) => client.cacheSystemInstruction(request),
    countTokens: (request) => client.countTokens(request),
  };
}

type InlinePart = Extract<Part, { inlineData: unknown }>;

/**
 * An upload's refusal (a 4xx other than 408 and 429) as the file's fault: marked `fileRefused`,
 * so the broker ends the call for that file and keeps the key in use. A refused key is found by
 * the generate call itself, or by a key check. Timeouts, 5xx and 429 stay as they are: retried.
 */
function asFileError(error: unknown): unknown {
  const status = (error as { status?: unknown } | null)?.status;
  const isRefusal = typeof status === "number" && status >= 400 && status < 500 &&
    status !== 408 && status !== 429;
  if (!isRefusal) return error;
  const message = error instanceof Error ? error.message : String(error);
  return Object.assign(new Error(`file upload refused: ${message}`), {
    status,
    fileRefused: true,
  });
}

/** The inline parts to upload: each over `partMax`, then the largest until the rest fit `requestMax`. */
function partsToUpload(
  contents: readonly Content[],
  partMax: number,
  requestMax: number,
): Set<Part> {
  const inline = contents.flatMap((content) => content.parts)
    .filter((part): part is InlinePart => "inlineData" in part && part.inlineData !== undefined)
    .map((part) => ({ part, bytes: Math.floor((part.inlineData.data.length * 3) / 4) }))
    .sort((a, b) => b.bytes - a.bytes);
  const chosen = new Set<Part>();
  let total = inline.reduce((sum, entry) => sum + entry.bytes, 0);
  for (const entry of inline) {
    if (entry.bytes <= partMax && total <= requestMax) break;
    chosen.add(entry.part);
    total -= entry.bytes;
  }
  return chosen;
}

/** `work`, or a rejection with `signal`'s reason as soon as it aborts. */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
