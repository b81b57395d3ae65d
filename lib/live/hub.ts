/**
 * The live hub: one per process, shared by every WebSocket. It holds ONE watch on the Inbox
 * sentinel and grouped watches on the sentinels of subscribed tickets, re-reads with strong
 * consistency when they fire, and fans the resulting events out to sockets (each event is read
 * and serialized once, whatever the number of sockets). Background work runs only while sockets
 * are open. With an embedded SQLite KV a watch sees only this process's writes: run one process
 * per KV file, or a remote KV for several processes.
 */
import { publicMessage } from "../db/messages.ts";
import { publicTicket, unreadFlags } from "../db/tickets.ts";
import { keys } from "../db/keys.ts";
import type { PublicUser } from "../db/users.ts";
import { logger } from "../log.ts";
import { type Conn, newConn, rateCheck, sessionVerdict } from "./connection.ts";
import {
  CLOSE_GOING_AWAY,
  CLOSE_SESSION_ENDED,
  CLOSE_TOO_SLOW,
  DEFAULT_LIVE_OPTIONS,
  type LiveOptions,
  MAX_BUFFERED_BYTES,
  RESYNC_SLACK_MS,
} from "./constants.ts";
import { InboxChannel } from "./inbox_channel.ts";
import { enterPresence, leavePresence, readViewers, refreshPresence } from "./presence.ts";
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

const log = logger("live");

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
  #inbox: InboxChannel;
  #timers: ReturnType<typeof setInterval>[] = [];
  #idleWaiters: (() => void)[] = [];

  constructor(private kv: Deno.Kv, options: Partial<LiveOptions> = {}) {
    this.options = { ...DEFAULT_LIVE_OPTIONS, ...options };
    this.#groups = new WatchGroups(kv, (id, parts) => this.#onTicketChange(id, parts));
    this.#inbox = new InboxChannel(kv, () => [...this.#conns], (c, f) => this.#send(c, f));
  }

  /** Take over an upgraded socket of a signed-in helpdesk user. */
  accept(socket: WebSocket, user: PublicUser, sessionToken: string | null): void {
    const conn = newConn(socket, user, sessionToken);
    socket.onopen = () => {
      if (this.#stopped) return this.#close(conn, CLOSE_GOING_AWAY, "server shutting down");
      conn.open = true;
      this.#conns.add(conn);
      this.#track((async () => {
        await this.#ensureRunning();
        await this.#inbox.counts([conn], true);
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
      watches: this.#groups.watches + (this.#inbox.watching ? 1 : 0),
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
    if (this.#conns.size === 0) {
      const waiters = this.#idleWaiters.splice(0);
      // not tracked: settle() waits for tracked tasks, and would wait for itself
      if (waiters.length) this.settle().then(() => waiters.forEach((w) => w()));
    }
  }

  /**
   * Resolves once no socket is open and everything they held is released (a closing client
   * sees its close event slightly before the server does; tests wait here).
   */
  idle(): Promise<void> {
    if (this.#conns.size === 0) return this.settle();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #startBackground() {
    await this.#inbox.start(this.options.feedLookbackMs);
    const every = (ms: number, fn: () => Promise<void>) =>
      this.#timers.push(setInterval(() => this.#track(fn()), ms));
    every(this.options.pingIntervalMs, () => Promise.resolve(this.#ping()));
    every(this.options.presenceRefreshMs, () => this.#refreshAllPresence());
    every(this.options.sessionRecheckMs, () => this.#recheckSessions());
  }

  async #stopBackground() {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.#inbox.stop();
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
    const rate = rateCheck(conn);
    if (rate === "limited") this.#error(conn, "rate_limited", "Too many messages; slow down");
    if (rate !== "ok") return;
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
      try {
        await enterPresence(this.kv, slot, this.options.presenceTtlMs);
        await ts.ready;
      } catch (e) {
        // the ticket's watch could not start: forget it so a later subscribe tries afresh
        log.error("subscribe failed", { ticket_id: id, error: e });
        if (this.#tickets.get(id) === ts) this.#tickets.delete(id);
        this.#groups.remove(id);
        await this.#unsubscribe(conn, id);
        return this.#error(conn, "unavailable", `Ticket #${id} cannot be watched now`);
      }
      if (!conn.subs.has(id)) return void this.#track(leavePresence(this.kv, [slot]));
    } else {
      await this.#tickets.get(id)?.ready.catch(() => {});
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
      for (const f of await this.#inbox.replay(since - RESYNC_SLACK_MS)) this.#send(conn, f);
    }
    await this.#inbox.counts([conn], true);
    for (const id of conn.subs.keys()) {
      this.#sendPresence(conn, id, await readViewers(this.kv, id), true);
    }
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
    for (const c of [...this.#conns]) {
      if (!verdicts.has(c.token)) verdicts.set(c.token, sessionVerdict(this.kv, c));
      const code = await verdicts.get(c.token)!;
      if (code === CLOSE_SESSION_ENDED) this.#close(c, code, "session ended");
      else if (code !== null) this.#close(c, code, "no helpdesk access");
    }
  }
}
