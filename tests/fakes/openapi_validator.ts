/**
 * Checks HTTP requests against Discord's published OpenAPI 3.1 description of API v10
 * (`tests/fixtures/discord-api-spec/openapi.json`, a copy kept in the repository), so a fake Discord can refuse what Discord would.
 *
 * @example
 * ```ts ignore
 * const spec = await DiscordSpec.load();
 * spec.match("POST", "/channels/1/messages")?.operationId; // "create_message"
 * spec.validateBody("POST", "/channels/1/messages", { content: "x".repeat(2001) }); // ["/content must …"]
 * ```
 * @module
 */

import Ajv2020 from "ajv/dist/2020.js";

/** Where the spec lives: the repository's own copy, so a clone needs nothing beside it. */
export const DEFAULT_SPEC_URL = new URL(
  "../fixtures/discord-api-spec/openapi.json",
  import.meta.url,
);

/** An operation of the spec that a request matched. */
export interface SpecOperation {
  /** The spec's name for it, such as `create_message`. */
  operationId: string;
  /** The spec's path, such as `/channels/{channel_id}/messages`. */
  pathTemplate: string;
  /** The values of the template's `{params}`, by name. */
  params: Record<string, string>;
}

/** One reason a body was refused, with the JSON pointer of the offending value. */
export interface SpecIssue {
  /** JSON pointer into the body, `""` for the body itself. */
  path: string;
  /** What is wrong, in ajv's words. */
  message: string;
}

type Validator = ((data: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string }[] | null;
};
type AjvLike = { addSchema(s: unknown, key: string): void; compile(s: unknown): Validator };
type JsonObject = Record<string, unknown>;

interface Route {
  method: string;
  template: string;
  regex: RegExp;
  paramNames: string[];
  literalSegments: number;
  operation: JsonObject;
}

const SPEC_KEY = "discord-openapi";
const METHODS = ["get", "put", "post", "patch", "delete"];
const MESSAGE_CONTENT_LIMIT = 2000;

/** Discord's OpenAPI description, with lazily compiled request-body validators. */
export class DiscordSpec {
  static #cache = new Map<string, Promise<DiscordSpec>>();
  readonly #routes: Route[];
  readonly #ajv: AjvLike;
  readonly #validators = new Map<string, Validator | null>();

  private constructor(spec: JsonObject) {
    patchKnownGaps(spec);
    this.#routes = buildRoutes(spec.paths as JsonObject);
    // strict: false because the document is OpenAPI, not pure JSON Schema (x-discord-union,
    // "openapi", "paths" are unknown keywords). Formats such as "snowflake", "int64" and "nonce"
    // are Discord's own, so they are not checked; the patterns beside them still are.
    this.#ajv = new (Ajv2020 as unknown as new (o: JsonObject) => AjvLike)({
      strict: false,
      allErrors: true,
      validateFormats: false,
    });
    this.#ajv.addSchema(spec, SPEC_KEY);
  }

  /** Reads and parses the spec once per URL; later calls share the same instance. */
  static load(url: URL = DEFAULT_SPEC_URL): Promise<DiscordSpec> {
    let loaded = DiscordSpec.#cache.get(url.href);
    if (!loaded) {
      loaded = Deno.readTextFile(url).then((text) => new DiscordSpec(JSON.parse(text)));
      DiscordSpec.#cache.set(url.href, loaded);
      loaded.catch(() => DiscordSpec.#cache.delete(url.href));
    }
    return loaded;
  }

  /** The operation for `method` and a path without `/api/v10`, or undefined if Discord has none. */
  match(method: string, path: string): SpecOperation | undefined {
    const route = this.#route(method, path);
    if (!route) return undefined;
    const values = route.regex.exec(path)!.slice(1).map(decodeURIComponent);
    return {
      operationId: String(route.operation.operationId),
      pathTemplate: route.template,
      params: Object.fromEntries(route.paramNames.map((name, i) => [name, values[i]])),
    };
  }

  /** What is wrong with `body` for this request; empty when Discord would accept it. */
  issues(method: string, path: string, body: unknown): SpecIssue[] {
    const route = this.#route(method, path);
    if (!route) return [{ path: "", message: `no route ${method} ${path} in Discord's API` }];
    const requestBody = route.operation.requestBody as JsonObject | undefined;
    if (!requestBody) return [];
    if (body === undefined) {
      return requestBody.required ? [{ path: "", message: "a request body is required" }] : [];
    }
    const validate = this.#validator(route);
    if (!validate || validate(body)) return [];
    return dedupe(
      (validate.errors ?? []).map((e) => ({
        path: e.instancePath,
        message: e.message ?? "is invalid",
      })),
    );
  }

  /** Like {@linkcode DiscordSpec.issues}, as `"/pointer message"` strings. */
  validateBody(method: string, path: string, body: unknown): string[] {
    return this.issues(method, path, body).map((i) => `${i.path || "/"} ${i.message}`);
  }

  #route(method: string, path: string): Route | undefined {
    const m = method.toLowerCase();
    let best: Route | undefined;
    for (const route of this.#routes) {
      if (route.method !== m || !route.regex.test(path)) continue;
      // "/users/@me" also matches "/users/{user_id}": the more literal template wins.
      if (!best || route.literalSegments > best.literalSegments) best = route;
    }
    return best;
  }

  #validator(route: Route): Validator | null {
    const key = `${route.method} ${route.template}`;
    if (this.#validators.has(key)) return this.#validators.get(key)!;
    const content = (route.operation.requestBody as JsonObject).content as JsonObject | undefined;
    // Multipart bodies are validated as their payload_json, i.e. with the JSON schema.
    const validator = content?.["application/json"]
      ? this.#ajv.compile({
        $ref: `${SPEC_KEY}#/paths/${pointer(route.template)}/${route.method}` +
          "/requestBody/content/application~1json/schema",
      })
      : null;
    this.#validators.set(key, validator);
    return validator;
  }
}

/** Turns issues into the `errors` object of Discord's 50035 "Invalid Form Body" reply. */
export function discordFormErrors(issues: SpecIssue[]): JsonObject {
  const errors: JsonObject = {};
  for (const issue of issues) {
    let node = errors;
    for (const key of issue.path.split("/").slice(1)) {
      node = (node[key] ??= {}) as JsonObject;
    }
    const list = (node._errors ??= []) as { code: string; message: string }[];
    list.push({ code: "BASE_TYPE_INVALID", message: issue.message });
  }
  return errors;
}

function buildRoutes(paths: JsonObject): Route[] {
  const routes: Route[] = [];
  for (const [template, item] of Object.entries(paths)) {
    const segments = template.split("/").slice(1);
    const paramNames = segments.filter(isParam).map((s) => s.slice(1, -1));
    const source = segments.map((s) => isParam(s) ? "([^/]+)" : escapeRegex(s)).join("/");
    for (const method of METHODS) {
      const operation = (item as JsonObject)[method] as JsonObject | undefined;
      if (!operation) continue;
      routes.push({
        method,
        template,
        regex: new RegExp(`^/${source}/?$`),
        paramNames,
        literalSegments: segments.length - paramNames.length,
        operation,
      });
    }
  }
  return routes;
}

/**
 * The spec is a preview, and where it disagrees with Discord's documentation the documentation
 * wins (its README says so). These are the disagreements that matter to a bot.
 */
function patchKnownGaps(spec: JsonObject): void {
  const schemas = (spec.components as JsonObject).schemas as Record<string, JsonObject>;
  // The spec allows 4000 characters (the Nitro limit); a bot's messages are limited to 2000.
  for (const name of ["MessageCreateRequest", "MessageEditRequestPartial"]) {
    const content = (schemas[name]?.properties as JsonObject | undefined)?.content as JsonObject;
    if (content) content.maxLength = MESSAGE_CONTENT_LIMIT;
  }
  // Permissions are documented (and sent by every library) as strings of digits; the spec says
  // integer only.
  for (const schema of Object.values(schemas)) {
    const perms = (schema.properties as JsonObject | undefined)?.default_member_permissions as
      | JsonObject
      | undefined;
    if (perms && Array.isArray(perms.type) && perms.type.includes("integer")) {
      (schema.properties as JsonObject).default_member_permissions = {
        anyOf: [perms, { type: "string", pattern: "^[0-9]+$" }],
      };
    }
  }
}

function dedupe(issues: SpecIssue[]): SpecIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path} ${i.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function isParam(segment: string): boolean {
  return segment.startsWith("{") && segment.endsWith("}");
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A JSON pointer token for a path key, URI-encoded because ajv parses `$ref` as a URI. */
function pointer(key: string): string {
  return encodeURIComponent(key.replaceAll("~", "~0").replaceAll("/", "~1"));
}
