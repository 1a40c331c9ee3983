/**
 * The gateway half of {@linkcode FakeDiscord}: the WebSocket session a bot holds open. It says
 * HELLO, answers heartbeats, turns IDENTIFY into READY and RESUME into a replay of missed events,
 * and sends dispatches with sequence numbers to the current session.
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
  /** The READY payload for a new session. */
  ready(sessionId: string): Json;
  /** Called after every frame received and every socket closed, so waits can look again. */
  onChange(): void;
}

/** One client's gateway session: its sequence and the dispatches it was sent, for RESUME. */
interface GatewaySession {
  id: string;
  seq: number;
  log: { op: number; t: string; s: number; d: unknown }[];
  intents: number;
  connection: GatewayConnection | undefined;
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

  readonly #options: FakeGatewayOptions;
  readonly #sockets = new Set<GatewayConnection>();
  readonly #sessions = new Map<string, GatewaySession>();
  #session: GatewaySession | undefined;

  constructor(options: FakeGatewayOptions) {
    this.#options = options;
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
    const { socket, response } = Deno.upgradeWebSocket(req);
    const conn = new GatewayConnection(socket);
    this.#sockets.add(conn);
    socket.onopen = () =>
      conn.send({ op: Op.Hello, d: { heartbeat_interval: this.#options.heartbeatIntervalMs } });
    socket.onmessage = (e) => this.#onMessage(conn, e.data);
    socket.onclose = () => {
      this.#sockets.delete(conn);
      if (conn.session?.connection === conn) conn.session.connection = undefined;
      this.#options.onChange();
    };
    // A client that vanishes without a close handshake still ends up in onclose.
    socket.onerror = () => {};
    return response;
  }

  /**
   * Sends a dispatch (op 0) with the next sequence number to the current session. Returns the
   * sequence, or undefined when no client has identified. Events sent while the socket is down
   * are replayed on RESUME.
   */
  dispatch(t: string, d: unknown): number | undefined {
    const session = this.#session;
    if (!session) return undefined;
    const s = ++session.seq;
    const payload = { op: Op.Dispatch, t, s, d };
    session.log.push(payload);
    session.connection?.send(payload);
    return s;
  }

  /** Closes the current session's socket with `code`, keeping the session for a RESUME. */
  dropConnection(code: number): void {
    const conn = this.#session?.connection;
    if (!conn) throw new Error("dropConnection: no client is connected to the gateway");
    this.#session!.connection = undefined;
    conn.socket.close(code, "FakeDiscord dropped the connection");
  }

  /** Closes every socket and resolves once their close handshakes are over. */
  async close(): Promise<void> {
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
    const session: GatewaySession = {
      id: crypto.randomUUID().replaceAll("-", ""),
      seq: 0,
      log: [],
      intents: Number(d.intents ?? 0),
      connection: conn,
    };
    conn.session = session;
    this.#sessions.set(session.id, session);
    this.#session = session;
    this.dispatch("READY", this.#options.ready(session.id));
    this.identified++;
  }

  #resume(conn: GatewayConnection, d: Json): void {
    if (!this.#tokenMatches(d.token)) return conn.socket.close(4004, "Authentication failed.");
    const session = this.#sessions.get(String(d.session_id));
    if (!session) return conn.send({ op: Op.InvalidSession, d: false });
    const seq = Number(d.seq ?? 0);
    if (seq > session.seq) return conn.socket.close(4007, "Invalid seq.");
    // Discord closes the session's old socket if it is somehow still open.
    if (session.connection && session.connection !== conn) {
      session.connection.socket.close(4000, "Session resumed elsewhere");
    }
    session.connection = conn;
    conn.session = session;
    this.#session = session;
    for (const missed of session.log.filter((p) => p.s > seq)) conn.send(missed);
    this.dispatch("RESUMED", null);
    this.resumed++;
  }

  #tokenMatches(token: unknown): boolean {
    // discordeno sends "Bot <token>" on the gateway; Discord accepts it with or without "Bot ".
    return token === this.#options.token || token === `Bot ${this.#options.token}`;
  }
}

/** One gateway WebSocket and the session it carries, if it identified or resumed. */
class GatewayConnection {
  session: GatewaySession | undefined;
  readonly #closed: Promise<void>;

  constructor(readonly socket: WebSocket) {
    this.#closed = new Promise((resolve) => socket.addEventListener("close", () => resolve()));
  }

  send(payload: unknown): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(payload));
  }

  /** Closes the socket and resolves once the close handshake is over. */
  close(code: number, reason: string): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    if (this.socket.readyState !== WebSocket.CLOSING) this.socket.close(code, reason);
    return this.#closed;
  }
}
