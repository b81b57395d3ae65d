/**
 * The live hub: one per process, shared by every WebSocket. It holds ONE watch on the Inbox
 * sentinel and grouped watches on the sentinels of subscribed tickets, re-reads with strong
 * consistency when they fire, and fans the resulting events out to sockets (each event is read
 * and serialized once, whatever the number of sockets). Background work runs only while sockets
 * are open. With an embedded SQLite KV a watch sees only this process's writes: run one process
 * per KV file, or a remote KV for several processes.
 */
import { inboxCounts } from "../db/inbox.ts";
import { publicMessage } from "../db/messages.ts";
import { publicTicket, unreadFlags } from "../db/tickets.ts";
import { keys } from "../db/keys.ts";
import { getUser, hasHelpdesk, type PublicUser } from "../db/users.ts";
import { getSession } from "../auth/sessions.ts";
import { logger } from "../log.ts";
import {
  CLOSE_FORBIDDEN,
  CLOSE_GOING_AWAY,
  CLOSE_SESSION_ENDED,
  CLOSE_TOO_SLOW,
  DEFAULT_LIVE_OPTIONS,
  type LiveOptions,
  MAX_BUFFERED_BYTES,
  RESYNC_SLACK_MS,
} from "./constants.ts";
import { changesSince, distinctChanges, type InboxChange, InboxFeed } from "./feed.ts";
import {
  enterPresence,
  leavePresence,
  type PresenceSlot,
  readViewers,
  refreshPresence,
} from "./presence.ts";
import {
  type ClientMessage,
  encode,
  parseClientMessage,
  PING_FRAME,
  resyncSince,
  type Viewer,
} from "./protocol.ts";
import { TicketView } from "./ticket_view.ts";
import { type ChangedParts, WatchGroups } from "./watch_groups.ts";
import { type KeyWatch, watchKeys } from "./watch.ts";

const log = logger("live");

/** Client messages allowed per socket in RATE_WINDOW_MS; more get a `rate_limited` error. */
const RATE_MAX = 60;
const RATE_WINDOW_MS = 10_000;

interface Conn {
  id: string;
  socket: WebSocket;
  user: PublicUser;
  token: string | null;
  subs: Map<number, PresenceSlot>;
  lastInbox: string | null;
  lastPresence: Map<number, string>;
  open: boolean;
  released: boolean;
  /** Client messages of one socket are handled in order. */
  chain: Promise<void>;
  rate: { start: number; count: number };
}

interface TicketState {
  view: TicketView | null;
  conns: Set<Conn>;
  ready: Promise<void>;
  chain: Promise<void>;
}

/** Counts of what the hub holds, for tests and health. */
export interface LiveStats {
  sockets: number;
  tickets: number;
  /** Open `kv.watch` streams: the Inbox watch plus one per ticket group. */
  watches: number;
  presence_rows: number;
  running: boolean;
}

export class LiveHub {
  readonly options: LiveOptions;
  #conns = new Set<Conn>();
  #tickets = new Map<number, TicketState>();
  #groups: WatchGroups;
  #tasks = new Set<Promise<unknown>>();
  #running = false;
  #stopped = false;
  #life: Promise<void> = Promise.resolve();
  #inboxChain: Promise<void> = Promise.resolve();
  #inboxWatch: KeyWatch | null = null;
  #feed: InboxFeed | null = null;
  #timers: ReturnType<typeof setInterval>[] = [];

  constructor(private kv: Deno.Kv, options: Partial<LiveOptions> = {}) {
    this.options = { ...DEFAULT_LIVE_OPTIONS, ...options };
    this.#groups = new WatchGroups(kv, (id, parts) => this.#onTicketChange(id, parts));
  }

  /** Take over an upgraded socket of a signed-in helpdesk user. */
  accept(socket: WebSocket, user: PublicUser, sessionToken: string | null): void {
    const conn: Conn = {
      id: crypto.randomUUID(),
      socket,
      user,
      token: sessionToken,
      subs: new Map(),
      lastInbox: null,
      lastPresence: new Map(),
      open: false,
      released: false,
      chain: Promise.resolve(),
      rate: { start: Date.now(), count: 0 },
    };
    socket.onopen = () => {
      if (this.#stopped) return this.#close(conn, CLOSE_GOING_AWAY, "server shutting down");
      conn.open = true;
      this.#conns.add(conn);
      this.#track((async () => {
        await this.#ensureRunning();
        await this.#inboxSerial(() => this.#sendCounts([conn], true));
      })());
    };
    socket.onmessage = (e) => {
      if (!conn.open) return;
      conn.chain = conn.chain.then(() => this.#onClientMessage(conn, e.data)).catch((err) =>
        log.error("client message failed", { error: err })
      );
      this.#track(conn.chain);
    };
    socket.onclose = () => this.#release(conn);
    socket.onerror = () => this.#release(conn);
  }

  stats(): LiveStats {
    let rows = 0;
    for (const c of this.#conns) rows += c.subs.size;
    return {
      sockets: this.#conns.size,
      tickets: this.#groups.tickets,
      watches: this.#groups.watches + (this.#inboxWatch ? 1 : 0),
      presence_rows: rows,
      running: this.#running,
    };
  }

  /** Wait until queued work (client messages, watch re-creations, cleanups) has finished. */
  async settle(): Promise<void> {
    while (this.#tasks.size) await Promise.allSettled([...this.#tasks]);
    await this.#groups.settle();
    await this.#life;
  }

  /** Close every socket, cancel watches and timers, remove this process's presence rows. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const c of [...this.#conns]) this.#close(c, CLOSE_GOING_AWAY, "server shutting down");
    await this.settle();
    await this.#groups.stop();
    this.#running = false;
    this.#life = this.#life.then(() => this.#stopBackground());
    await this.settle();
  }

  // ---- lifecycle -------------------------------------------------------------------------

  #track<T>(p: Promise<T>): Promise<T> {
    const q = p.catch((e) => log.error("live task failed", { error: e }));
    this.#tasks.add(q);
    q.finally(() => this.#tasks.delete(q));
    return p;
  }

  #ensureRunning(): Promise<void> {
    if (!this.#running && !this.#stopped) {
      this.#running = true;
      this.#life = this.#life.then(() => this.#startBackground());
    }
    return this.#life;
  }

  #maybeIdle() {
    if (this.#conns.size === 0 && this.#running) {
      this.#running = false;
      this.#life = this.#life.then(() => this.#stopBackground());
      this.#track(this.#life);
    }
  }

  async #startBackground() {
    this.#feed = new InboxFeed(this.kv, this.options.feedLookbackMs);
    await this.#feed.prime();
    this.#inboxWatch = watchKeys(
      this.kv,
      [keys.liveInbox()],
      () => this.#inboxSerial(() => this.#onInboxChange()),
    );
    const every = (ms: number, fn: () => Promise<void>) =>
      this.#timers.push(setInterval(() => this.#track(fn()), ms));
    every(this.options.pingIntervalMs, () => Promise.resolve(this.#ping()));
    every(this.options.presenceRefreshMs, () => this.#refreshAllPresence());
    every(this.options.sessionRecheckMs, () => this.#recheckSessions());
  }

  async #stopBackground() {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#inboxWatch?.stop();
    this.#inboxWatch = null;
    this.#feed = null;
    // the watch may have queued one last run
    await this.#inboxChain;
  }

  // ---- sockets ---------------------------------------------------------------------------

  #send(conn: Conn, frame: string) {
    const s = conn.socket;
    if (!conn.open || s.readyState !== WebSocket.OPEN) return;
    if (s.bufferedAmount > MAX_BUFFERED_BYTES) {
      return this.#close(conn, CLOSE_TOO_SLOW, "client too slow; reconnect");
    }
    try {
      s.send(frame);
    } catch {
      this.#release(conn);
    }
  }

  #close(conn: Conn, code: number, reason: string) {
    try {
      conn.socket.close(code, reason);
    } catch {
      // not open yet or already closing
    }
    this.#release(conn);
  }

  #release(conn: Conn) {
    if (conn.released) return;
    conn.released = true;
    conn.open = false;
    this.#conns.delete(conn);
    const slots = [...conn.subs.values()];
    for (const id of conn.subs.keys()) this.#dropSubscriber(conn, id);
    conn.subs.clear();
    if (slots.length) this.#track(leavePresence(this.kv, slots));
    this.#maybeIdle();
  }

  #error(conn: Conn, code: string, error: string) {
    this.#send(conn, encode({ type: "error", error, code }));
  }

  async #onClientMessage(conn: Conn, data: unknown) {
    const now = Date.now();
    if (now - conn.rate.start > RATE_WINDOW_MS) conn.rate = { start: now, count: 0 };
    if (++conn.rate.count > RATE_MAX) {
      if (conn.rate.count === RATE_MAX + 1) this.#error(conn, "rate_limited", "Too many messages");
      return;
    }
    const r = parseClientMessage(data);
    if (!r.ok) return this.#error(conn, r.code, r.error);
    const m: ClientMessage = r.msg;
    switch (m.type) {
      case "subscribe":
        return await this.#subscribe(conn, m.ticket_id);
      case "unsubscribe":
        return await this.#unsubscribe(conn, m.ticket_id);
      case "resync":
        return await this.#resync(conn, resyncSince(m.since));
      case "pong":
        return;
    }
  }

  // ---- subscriptions ---------------------------------------------------------------------

  async #subscribe(conn: Conn, id: number) {
    if (!conn.subs.has(id)) {
      if (conn.subs.size >= this.options.maxSubscriptions) {
        return this.#error(
          conn,
          "too_many_subscriptions",
          `A socket may subscribe to ${this.options.maxSubscriptions} tickets at most`,
        );
      }
      const t = await this.kv.get(keys.ticket(id));
      if (!t.value) return this.#error(conn, "not_found", `Ticket #${id} does not exist`);
      if (!conn.open) return;
      const slot = { ticketId: id, userId: conn.user.id, name: conn.user.name, connId: conn.id };
      conn.subs.set(id, slot);
      let ts = this.#tickets.get(id);
      if (!ts) {
        const state: TicketState = {
          view: null,
          conns: new Set(),
          ready: Promise.resolve(),
          chain: Promise.resolve(),
        };
        state.ready = (async () => {
          state.view = await TicketView.load(this.kv, id);
          if (this.#tickets.get(id) === state) await this.#groups.add(id);
        })();
        this.#tickets.set(id, ts = state);
      }
      ts.conns.add(conn);
      await enterPresence(this.kv, slot, this.options.presenceTtlMs);
      if (!conn.subs.has(id)) return void this.#track(leavePresence(this.kv, [slot]));
      await ts.ready;
    } else {
      await this.#tickets.get(id)?.ready;
    }
    // the answer: events committed after it are guaranteed to reach this socket
    if (conn.subs.has(id)) this.#sendPresence(conn, id, await readViewers(this.kv, id), true);
  }

  async #unsubscribe(conn: Conn, id: number) {
    const slot = conn.subs.get(id);
    if (!slot) return;
    conn.subs.delete(id);
    this.#dropSubscriber(conn, id);
    await leavePresence(this.kv, [slot]);
  }

  #dropSubscriber(conn: Conn, id: number) {
    conn.lastPresence.delete(id);
    const ts = this.#tickets.get(id);
    if (!ts) return;
    ts.conns.delete(conn);
    if (ts.conns.size === 0) {
      this.#tickets.delete(id);
      this.#groups.remove(id);
    }
  }

  async #resync(conn: Conn, since: number | null) {
    if (since !== null) {
      const changes = distinctChanges(await changesSince(this.kv, since - RESYNC_SLACK_MS));
      for (const f of this.#ticketFrames(changes)) this.#send(conn, f);
    }
    await this.#inboxSerial(() => this.#sendCounts([conn], true));
    for (const id of conn.subs.keys()) {
      this.#sendPresence(conn, id, await readViewers(this.kv, id), true);
    }
  }

  // ---- inbox -----------------------------------------------------------------------------

  /** Inbox work runs one at a time, so counts never arrive out of order. */
  #inboxSerial(fn: () => Promise<void>): Promise<void> {
    const run = this.#inboxChain.then(fn);
    this.#inboxChain = run.catch((e) => log.error("inbox update failed", { error: e }));
    return this.#inboxChain;
  }

  #ticketFrames(changes: InboxChange[]): string[] {
    return changes.map((c) => encode({ type: "ticket", ticket_id: c.ticket_id, reason: c.reason }));
  }

  async #onInboxChange() {
    if (!this.#feed) return;
    const frames = this.#ticketFrames(distinctChanges(await this.#feed.poll()));
    if (frames.length) { for (const c of this.#conns) for (const f of frames) this.#send(c, f); }
    await this.#sendCounts([...this.#conns], false);
  }

  /** Read each user's counts once and send them where they differ from the last sent. */
  async #sendCounts(conns: Conn[], force: boolean) {
    const byUser = new Map<string, Conn[]>();
    for (const c of conns) {
      if (!c.open) continue;
      const list = byUser.get(c.user.id) ?? [];
      list.push(c);
      byUser.set(c.user.id, list);
    }
    await Promise.all([...byUser].map(async ([userId, list]) => {
      const counts = await inboxCounts(this.kv, userId);
      const frame = encode({ type: "inbox", unread: counts.unread, total: counts.total });
      for (const c of list) {
        if (!force && c.lastInbox === frame) continue;
        c.lastInbox = frame;
        this.#send(c, frame);
      }
    }));
  }

  // ---- tickets ---------------------------------------------------------------------------

  #onTicketChange(id: number, parts: ChangedParts): Promise<void> {
    const ts = this.#tickets.get(id);
    if (!ts?.view) return Promise.resolve();
    const run = ts.chain.then(() => this.#refreshTicket(id, ts, parts));
    ts.chain = run.catch((e) => log.error("ticket update failed", { ticket_id: id, error: e }));
    return ts.chain;
  }

  async #refreshTicket(id: number, ts: TicketState, parts: ChangedParts) {
    if (parts.ticket && ts.view) {
      const ch = await ts.view.refresh(this.kv);
      for (const rec of ch.messages) {
        const frame = encode({
          type: "message",
          ticket_id: id,
          message: await publicMessage(this.kv, rec),
        });
        for (const c of ts.conns) this.#send(c, frame);
      }
      if (ch.updated) {
        const rec = ch.updated;
        const users = [...new Set([...ts.conns].map((c) => c.user.id))];
        const flags = await Promise.all(users.map((u) => unreadFlags(this.kv, u, [id])));
        const frames = new Map(users.map((u, i) => [
          u,
          encode({ type: "ticket_update", ticket_id: id, ticket: publicTicket(rec, flags[i][0]) }),
        ]));
        for (const c of ts.conns) this.#send(c, frames.get(c.user.id)!);
      }
    }
    if (parts.presence) await this.#pushPresence(id, ts);
  }

  // ---- presence --------------------------------------------------------------------------

  async #pushPresence(id: number, ts: TicketState) {
    if (ts.conns.size === 0) return;
    const viewers = await readViewers(this.kv, id);
    for (const c of ts.conns) this.#sendPresence(c, id, viewers, false);
  }

  /** Viewers other than the socket's own user; sent when the list differs from the last one. */
  #sendPresence(conn: Conn, id: number, viewers: Viewer[], force: boolean) {
    const others = viewers.filter((v) => v.id !== conn.user.id);
    const print = JSON.stringify(others);
    // before the subscription's answer (forced), updates would only repeat it
    if (!force && (!conn.lastPresence.has(id) || conn.lastPresence.get(id) === print)) return;
    conn.lastPresence.set(id, print);
    this.#send(conn, encode({ type: "presence", ticket_id: id, viewers: others }));
  }

  /** Keep own rows alive, and notice rows of other processes that expired. */
  async #refreshAllPresence() {
    const slots = [...this.#conns].flatMap((c) => [...c.subs.values()]);
    if (slots.length) await refreshPresence(this.kv, slots, this.options.presenceTtlMs);
    await Promise.all([...this.#tickets].map(([id, ts]) => {
      const run = ts.chain.then(() => this.#pushPresence(id, ts));
      ts.chain = run.catch((e) => log.error("presence update failed", { error: e }));
      return ts.chain;
    }));
  }

  // ---- heartbeat and session checks ------------------------------------------------------

  #ping() {
    for (const c of this.#conns) this.#send(c, PING_FRAME);
  }

  /** A socket outlives neither its session nor its user's helpdesk access. */
  async #recheckSessions() {
    const verdicts = new Map<string | null, Promise<number | null>>();
    const verdict = async (c: Conn): Promise<number | null> => {
      if (!c.token) return null;
      const s = await getSession(this.kv, c.token);
      const u = s ? await getUser(this.kv, s.user_id) : null;
      if (!s || !u || u.id !== c.user.id) return CLOSE_SESSION_ENDED;
      return hasHelpdesk(u) ? null : CLOSE_FORBIDDEN;
    };
    for (const c of [...this.#conns]) {
      if (!verdicts.has(c.token)) verdicts.set(c.token, verdict(c));
      const code = await verdicts.get(c.token)!;
      if (code !== null) {
        this.#close(c, code, code === CLOSE_SESSION_ENDED ? "session ended" : "no helpdesk access");
      }
    }
  }
}
