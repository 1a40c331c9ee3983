/**
 * Tracing through OpenTelemetry's API, exported by Deno's built-in OpenTelemetry when the process
 * runs with `OTEL_DENO=true`. Otherwise every helper here calls straight through: no span, no
 * context, no bookkeeping.
 *
 * One trace per message: `discord.message` at the root, with `gemini.generate` (its children
 * `gemini.queue_wait` and one `gemini.call` per attempt) and `discord.send`. Deno adds its own
 * spans for every `fetch`, so each Gemini and Discord HTTP request appears under them too.
 *
 * The broker runs calls on its own schedule, so the active context at the moment a call starts
 * may belong to another message. {@link GeminiTracing} therefore ties each call back to its
 * request by the identity of its `contents` array, which the broker hands to the client as it is.
 *
 * @module
 */
import * as otel from "@opentelemetry/api";
import type { BrokerRequest, BrokerResult } from "../broker/mod.ts";
import type { GeminiClient } from "../gemini/mod.ts";

/** Re-exported because the tracing API below is written in them. */
export type { BrokerRequest, BrokerResult, GeminiClient };

/** Key-value pairs recorded on a span, such as `{ "discord.channel_id": "123" }`. */
export type Attributes = otel.Attributes;
/** The OpenTelemetry context a span is started under; it carries the parent span. */
export type Context = otel.Context;
/** One timed operation in a trace. */
export type Span = otel.Span;
const { context, SpanStatusCode, trace } = otel;

/** The bot's tracer. */
const tracer = trace.getTracer("soyebot");

/** The API's own stand-in provider, registered when nothing else is: its spans record nothing. */
const NOOP_PROVIDER = new otel.ProxyTracerProvider().getDelegate();

/** Handed to a span's body when nothing is recorded; every method on it does nothing. */
const UNRECORDED: Span = trace.wrapSpanContext(otel.INVALID_SPAN_CONTEXT);

/**
 * True when spans are recorded: Deno's OpenTelemetry is on (`OTEL_DENO=true`, which registers
 * its own provider), or a provider was registered through the API.
 *
 * @example
 * ```ts
 * import { isTracing } from "./tracing.ts";
 *
 * isTracing(); // false, unless the process runs with OTEL_DENO=true
 * ```
 */
export function isTracing(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof otel.ProxyTracerProvider) ||
    provider.getDelegate() !== NOOP_PROVIDER;
}

/** Applied to error text before it is exported: spans leave the process like logs do. */
let redactErrorText: (text: string) => string = (text) => text;

/** Sets the redactor for error text in spans (main.ts passes the log redactor). */
export function setTraceRedactor(redact: (text: string) => string): void {
  redactErrorText = redact;
}

/**
 * Runs `fn` in a new active span named `name`, ending it when `fn` settles and marking it as an
 * error when `fn` throws.
 *
 * @example
 * ```ts ignore
 * await inSpan("discord.send", { "discord.channel_id": channelId }, () => stream.finish(text));
 * ```
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  parent?: Context,
): Promise<T> {
  if (!isTracing()) return fn(UNRECORDED);
  return tracer.startActiveSpan(name, { attributes }, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      const message = redactErrorText(String(error));
      span.recordException({ name: error instanceof Error ? error.name : "Error", message });
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      throw error;
    } finally {
      span.end();
    }
  });
}

interface PendingCall {
  context: Context;
  wait: Span | undefined;
}

/**
 * Spans for broker calls: `gemini.generate` around a request, `gemini.queue_wait` until its first
 * attempt starts, and `gemini.call` around each attempt.
 *
 * @example
 * ```ts ignore
 * const tracing = new GeminiTracing();
 * const broker = new GeminiBroker({ client: tracing.wrap(client), pool, model, systemInstruction });
 * const result = await tracing.generate(broker, { priority: "chat", contents });
 * ```
 */
export class GeminiTracing {
  #pending = new WeakMap<object, PendingCall>();

  /** Wraps a client so that each attempt is a `gemini.call` span under its request's span. */
  wrap(client: GeminiClient): GeminiClient {
    return {
      generate: (request) => {
        if (!isTracing()) return client.generate(request);
        const pending = this.#pending.get(request.contents);
        pending?.wait?.end();
        if (pending) pending.wait = undefined;
        return inSpan(
          "gemini.call",
          {
            "gemini.model": request.model,
            "gemini.cached_prompt": request.cachedContent !== undefined,
          },
          async (span) => {
            const result = await client.generate(request);
            span.setAttributes({
              "gemini.tokens.input": result.usage.promptTokens,
              "gemini.tokens.cached": result.usage.cachedTokens,
              "gemini.tokens.output": result.usage.outputTokens,
              "gemini.tokens.thinking": result.usage.thinkingTokens,
              "gemini.finish_reason": result.finishReason ?? "",
            });
            return result;
          },
          pending?.context,
        );
      },
      cacheSystemInstruction: (request) => client.cacheSystemInstruction(request),
      countTokens: (request) => client.countTokens(request),
    };
  }

  /** Asks `broker` for an answer inside a `gemini.generate` span. */
  generate(
    broker: { generate(request: BrokerRequest): Promise<BrokerResult> },
    request: BrokerRequest,
  ): Promise<BrokerResult> {
    if (!isTracing()) return broker.generate(request);
    return inSpan("gemini.generate", { "gemini.priority": request.priority }, async (span) => {
      const wait = tracer.startSpan("gemini.queue_wait");
      const pending: PendingCall = { context: context.active(), wait };
      this.#pending.set(request.contents, pending);
      try {
        const result = await broker.generate(request);
        span.setAttribute("gemini.outcome", result.ok ? "ok" : result.reason);
        if (result.ok) span.setAttribute("gemini.attempts", result.attempts);
        else span.setStatus({ code: SpanStatusCode.ERROR, message: result.reason });
        return result;
      } finally {
        pending.wait?.end();
        this.#pending.delete(request.contents);
      }
    });
  }
}
