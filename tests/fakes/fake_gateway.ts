/**
 * The gateway half of {@linkcode FakeDiscord}: the WebSocket session a bot holds open. It says
 * HELLO, answers heartbeats, turns IDENTIFY into READY and RESUME into a replay of missed events,
 * and sends dispatches with sequence numbers to the current session.
 *
 * Like Discord, it keeps a dropped session resumable for a while (`resumeWindowMs`), counts every
 * IDENTIFY against a session start limit, and can go down for a few seconds (`outage`), refusing
 * connections and counting the attempts.
 *
 * Sharded like Discord: each IDENTIFY's `shard: [id, count]` makes its session that shard's, and
 * a dispatch goes to the shard that owns its guild (`(guild_id >> 22) % count`), or to shard 0
 * when it has no guild (a DM), whichever client holds that shard.
 *
 * Frames are always uncompressed JSON text: discordeno asks for no compression by default, and
 * its shard parses text frames as plain JSON even when it asked for zlib or zstd.
 *
 * @module
 */

/** Discord's gateway opcodes used here. */
const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

type Json = Record<string, unknown>;

/** What the gateway needs from the fake it belongs to. */
export interface FakeGatewayOptions {
  /** The bot token IDENTIFY and RESUME must carry. */
  token: string;
  heartbeatIntervalMs: number;
  /** The READY payload for a new session of `shard` (`[id, count]`). */
  ready(sessionId: string, shard: [number, number]): Json;
  /** Called after every frame received and every socket closed, so waits can look again. */
  onChange(): void;
  /**
   * How long a session whose socket closed can still be resumed; a later RESUME gets op 9
   * (d=false), so the client must IDENTIFY anew. Discord does not publish its window.
   * @default {180000}
   */
  resumeWindowMs?: number;
  /** The session start limit `GET /gateway/bot` reports; every IDENTIFY takes one. */
  sessionStartLimit?: SessionStartLimitOptions;
}

/** The session start limit a fake gateway begins with. */
export interface SessionStartLimitOptions {
  /** Session starts allowed per period. @default {1000} */
  total?: number;
  /** Session starts left in the current period. @default {total} */
  remaining?: number;
  /** How long until `remaining` goes back to `total`, in ms. @default {86400000} */
  resetAfterMs?: number;
}

/** `session_start_limit` as `GET /gateway/bot` returns it. */
export interface SessionStartLimit {
  total: number;
  remaining: number;
  /** Milliseconds until `remaining` resets to `total`. */
  reset_after: number;
  max_concurrency: number;
}

const DEFAULT_RESUME_WINDOW_MS = 180_000;
const SESSION_START_PERIOD_MS = 86_400_000;
const SESSION_START_TOTAL = 1000;

/** One client's gateway session: its sequence and the dispatches it was sent, for RESUME. */
interface GatewaySession {
  id: string;
  seq: number;
  log: { op: number; t: string; s: number; d: unknown }[];
  intents: number;
  connection: GatewayConnection | undefined;
  /** `Date.now()` when its socket last closed; undefined while a socket carries it. */
  droppedAt: number | undefined;
  /** `[shard id, shard count]` from its IDENTIFY; `[0, 1]` when it named none. */
  shard: [number, number];
}

/**
 * A fake Discord gateway (v10) behind `upgrade`.
 *
 * @example
 * ```ts ignore
 * const gateway = new FakeGateway({ token, heartbeatIntervalMs: 41250, ready, onChange });
 * Deno.serve((req) => gateway.upgrade(req));
 * ```
 */
export class FakeGateway {
  /** Every payload clients sent, oldest first. */
  readonly received: { op: number; d: unknown }[] = [];
  /** How many IDENTIFYs were answered with READY. */
  identified = 0;
  /** How many RESUMEs were answered with RESUMED. */
  resumed = 0;
  /** How many RESUMEs were refused with op 9 because their session had expired or was unknown. */
  resumesRefused = 0;
  /** Every WebSocket upgrade request, refused ones included: a reconnect storm shows up here. */
  connectionAttempts = 0;
  /** Upgrade requests refused because of an {@linkcode FakeGateway.outage}. */
  refusedConnections = 0;
  /** IDENTIFYs sent with no session starts left (Discord resets the token for these). */
  identifiesOverLimit = 0;

  readonly #options: FakeGatewayOptions;
  readonly #resumeWindowMs: number;
  readonly #sockets = new Set<GatewayConnection>();
  readonly #sessions = new Map<string, GatewaySession>();
  /** The current session of each shard id, the latest to identify or resume it. */
  readonly #current = new Map<number, GatewaySession>();
  /** The latest session to identify or resume, of any shard. */
  #session: GatewaySession | undefined;
  #startsTotal: number;
  #startsRemaining: number;
  #startsResetAt: number;
  #outageUntil = 0;
  #outageTimer: ReturnType<typeof setTimeout> | undefined;
  #outageOver: (() => void) | undefined;

  constructor(options: FakeGatewayOptions) {
    this.#options = options;
    this.#resumeWindowMs = options.resumeWindowMs ?? DEFAULT_RESUME_WINDOW_MS;
    this.#startsTotal = SESSION_START_TOTAL;
    this.#startsRemaining = SESSION_START_TOTAL;
    this.#startsResetAt = 0;
    this.setSessionStartLimit(options.sessionStartLimit ?? {});
  }

  /** Replaces the session start limit, counting `resetAfterMs` from now. */
  setSessionStartLimit(limit: SessionStartLimitOptions): void {
    this.#startsTotal = limit.total ?? this.#startsTotal;
    this.#startsRemaining = limit.remaining ?? this.#startsTotal;
    this.#startsResetAt = Date.now() + (limit.resetAfterMs ?? SESSION_START_PERIOD_MS);
  }

  /** The session start limit now, as `GET /gateway/bot` reports it. */
  sessionStartLimit(): SessionStartLimit {
    this.#replenishStarts();
    return {
      total: this.#startsTotal,
      remaining: this.#startsRemaining,
      reset_after: Math.max(0, this.#startsResetAt - Date.now()),
      max_concurrency: 1,
    };
  }

  /** True while an outage refuses connections. */
  get down(): boolean {
    return Date.now() < this.#outageUntil;
  }

  /**
   * Takes the gateway down for `ms`: the current session's socket is closed with `closeCode`,
   * and every connection attempt meanwhile is refused with HTTP 503, as a gateway behind a
   * failing load balancer answers. The session stays resumable (within `resumeWindowMs`), and
   * events dispatched meanwhile wait in it for a RESUME. Resolves when the outage is over.
   */
  outage(ms: number, closeCode = 1001): Promise<void> {
    if (this.#outageTimer !== undefined) throw new Error("outage: the gateway is already down");
    this.#outageUntil = Date.now() + ms;
    if (this.connectedShards.length > 0) this.dropConnection(closeCode);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#outageOver = () => {
      clearTimeout(this.#outageTimer);
      this.#outageTimer = undefined;
      this.#outageOver = undefined;
      this.#outageUntil = 0;
      resolve();
      this.#options.onChange();
    };
    this.#outageTimer = setTimeout(() => this.#outageOver?.(), ms);
    return promise;
  }

  /** The intents the current session identified with; 0 before any IDENTIFY. */
  get intents(): number {
    return this.#session?.intents ?? 0;
  }

  /** Accepts a WebSocket upgrade and says HELLO once it is open. */
  upgrade(req: Request): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    this.connectionAttempts++;
    if (this.down) {
      this.refusedConnections++;
      this.#options.onChange();
      return new Response("upstream connect error", { status: 503 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    const conn = new GatewayConnection(socket);
    this.#sockets.add(conn);
    socket.onopen = () =>
      conn.send({ op: Op.Hello, d: { heartbeat_interval: this.#options.heartbeatIntervalMs } });
    socket.onmessage = (e) => this.#onMessage(conn, e.data);
    socket.onclose = () => {
      this.#sockets.delete(conn);
      if (conn.session?.connection === conn) this.#detach(conn.session);
      this.#options.onChange();
    };
    // A client that vanishes without a close handshake still ends up in onclose.
    socket.onerror = () => {};
    return response;
  }

  /** The shard ids whose current session has a socket now, ascending. */
  get connectedShards(): number[] {
    return [...this.#current].filter(([, s]) => s.connection).map(([id]) => id).sort((a, b) =>
      a - b
    );
  }

  /**
   * Sends a dispatch (op 0) with the next sequence number to the session of the shard that owns
   * it: its `guild_id`'s shard, or shard 0 without one. Returns the sequence, or undefined when
   * no client has identified that shard. Events sent while the socket is down are replayed on
   * RESUME.
   */
  dispatch(t: string, d: unknown): number | undefined {
    const guildId = (d as { guild_id?: unknown } | null)?.guild_id;
    for (const session of this.#current.values()) {
      const [id, count] = session.shard;
      const owner = typeof guildId === "string" && /^\d+$/.test(guildId)
        ? Number((BigInt(guildId) >> 22n) % BigInt(count))
        : 0;
      if (owner === id) return this.#send(session, t, d);
    }
    return undefined;
  }

  /** Closes every current session's socket with `code`, keeping them for a RESUME. */
  dropConnection(code: number): void {
    const sessions = [...this.#current.values()].filter((s) => s.connection);
    if (sessions.length === 0) {
      throw new Error("dropConnection: no client is connected to the gateway");
    }
    for (const session of sessions) {
      const conn = session.connection!;
      this.#detach(session);
      conn.socket.close(code, "FakeDiscord dropped the connection");
    }
  }

  #send(session: GatewaySession, t: string, d: unknown): number {
    const s = ++session.seq;
    const payload = { op: Op.Dispatch, t, s, d };
    session.log.push(payload);
    session.connection?.send(payload);
    return s;
  }

  /** Ends an outage early, closes every socket and resolves once their handshakes are over. */
  async close(): Promise<void> {
    this.#outageOver?.();
    await Promise.all([...this.#sockets].map((c) => c.close(1001, "FakeDiscord closing")));
  }

  #onMessage(conn: GatewayConnection, data: unknown): void {
    let payload: { op: number; d: unknown };
    try {
      payload = JSON.parse(String(data));
    } catch {
      return conn.socket.close(4002, "Error while decoding payload.");
    }
    this.received.push({ op: payload.op, d: payload.d });
    switch (payload.op) {
      case Op.Heartbeat:
        conn.send({ op: Op.HeartbeatAck });
        break;
      case Op.Identify:
        this.#identify(conn, payload.d as Json);
        break;
      case Op.Resume:
        this.#resume(conn, payload.d as Json);
        break;
      case Op.PresenceUpdate:
      case Op.VoiceStateUpdate:
      case Op.RequestGuildMembers:
        if (!conn.session) conn.socket.close(4003, "Not authenticated.");
        break;
      default:
        conn.socket.close(4001, "Unknown opcode.");
    }
    this.#options.onChange();
  }

  #identify(conn: GatewayConnection, d: Json): void {
    if (conn.session) return conn.socket.close(4005, "Already authenticated.");
    if (!this.#tokenMatches(d.token)) return conn.socket.close(4004, "Authentication failed.");
    this.#replenishStarts();
    if (this.#startsRemaining <= 0) {
      // Discord's answer to a bot past its session start limit is to reset the bot's token.
      this.identifiesOverLimit++;
      return conn.socket.close(4004, "Authentication failed.");
    }
    const shard = shardOf(d.shard);
    if (!shard) return conn.socket.close(4010, "Invalid shard.");
    this.#startsRemaining--;
    const session: GatewaySession = {
      id: crypto.randomUUID().replaceAll("-", ""),
      seq: 0,
      log: [],
      intents: Number(d.intents ?? 0),
      connection: conn,
      droppedAt: undefined,
      shard,
    };
    conn.session = session;
    this.#sessions.set(session.id, session);
    this.#session = session;
    this.#current.set(shard[0], session);
    this.#send(session, "READY", this.#options.ready(session.id, shard));
    this.identified++;
  }

  #resume(conn: GatewayConnection, d: Json): void {
    if (!this.#tokenMatches(d.token)) return conn.socket.close(4004, "Authentication failed.");
    const session = this.#sessions.get(String(d.session_id));
    const expired = session?.droppedAt !== undefined &&
      Date.now() - session.droppedAt > this.#resumeWindowMs;
    if (!session || expired) {
      if (session) this.#sessions.delete(session.id);
      this.resumesRefused++;
      return conn.send({ op: Op.InvalidSession, d: false });
    }
    const seq = Number(d.seq ?? 0);
    if (seq > session.seq) return conn.socket.close(4007, "Invalid seq.");
    // Discord closes the session's old socket if it is somehow still open.
    if (session.connection && session.connection !== conn) {
      session.connection.socket.close(4000, "Session resumed elsewhere");
    }
    session.connection = conn;
    session.droppedAt = undefined;
    conn.session = session;
    this.#session = session;
    this.#current.set(session.shard[0], session);
    for (const missed of session.log.filter((p) => p.s > seq)) conn.send(missed);
    this.#send(session, "RESUMED", null);
    this.resumed++;
  }

  /** The session lost its socket: from now on its resume window runs. */
  #detach(session: GatewaySession): void {
    session.connection = undefined;
    session.droppedAt = Date.now();
  }

  /** Once the period is over, the session start limit is back to its total. */
  #replenishStarts(): void {
    const now = Date.now();
    if (now < this.#startsResetAt) return;
    this.#startsRemaining = this.#startsTotal;
    this.#startsResetAt = now + SESSION_START_PERIOD_MS;
  }

  #tokenMatches(token: unknown): boolean {
    // discordeno sends "Bot <token>" on the gateway; Discord accepts it with or without "Bot ".
    return token === this.#options.token || token === `Bot ${this.#options.token}`;
  }
}

/** IDENTIFY's `shard`: `[id, count]` with `0 <= id < count`; `[0, 1]` when absent. */
function shardOf(value: unknown): [number, number] | undefined {
  if (value === undefined) return [0, 1];
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [id, count] = value;
  const valid = Number.isInteger(id) && Number.isInteger(count) && id >= 0 && id < count;
  return valid ? [id, count] : undefined;
}

/** One gateway WebSocket and the session it carries, if it identified or resumed. */
class GatewayConnection {
  session: GatewaySession | undefined;
  readonly #closed: Promise<void>;

  constructor(readonly socket: WebSocket) {
    this.#closed = new Promise((resolve) => socket.addEventListener("close", () => resolve()));
  }

  /**
   * Sends a gateway payload. Like Discord's, every payload carries `op`, `d`, `s` and `t`, the
   * last two null unless it is a dispatch: discordeno takes any `s` that is not null as the
   * sequence, so a HELLO or HEARTBEAT_ACK without it made the next RESUME ask for seq 0 and
   * get every event of the session again.
   */
  send(payload: { op: number; d?: unknown; s?: number; t?: string }): void {
    const { op, d = null, s = null, t = null } = payload;
    if (this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ op, d, s, t }));
    }
  }

  /** Closes the socket and resolves once the close handshake is over. */
  close(code: number, reason: string): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    if (this.socket.readyState !== WebSocket.CLOSING) this.socket.close(code, reason);
    return this.#closed;
  }
}
