/**
 * A small WebSocket client for tests and benches of `/api/v1/ws` (Deno's WebSocket with the
 * session cookie). It records every event and lets a test wait for the next one matching a
 * predicate. Not used by the app itself.
 */
import { createTicket } from "../db/messages.ts";

// deno-lint-ignore no-explicit-any
export type Ev = { type: string; [k: string]: any };

interface Waiter {
  pred: (e: Ev) => boolean;
  resolve: (e: Ev) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class WsClient {
  /** Every event received, in order. */
  readonly events: Ev[] = [];
  /** Arrival time (performance.now()) of each event. */
  readonly times: number[] = [];
  #waiters = new Set<Waiter>();
  #closed: Promise<CloseEvent>;
  /** Indexes of events already returned by `next` (each is returned once). */
  #taken = new Set<number>();
  /** Called for each event as it arrives (benches). */
  onEvent: ((e: Ev, at: number) => void) | null = null;

  private constructor(readonly socket: WebSocket) {
    this.#closed = new Promise((resolve) => socket.addEventListener("close", resolve));
    socket.addEventListener("message", (m) => {
      const at = performance.now();
      const ev = JSON.parse(String(m.data)) as Ev;
      this.events.push(ev);
      this.times.push(at);
      this.onEvent?.(ev, at);
      const i = this.events.length - 1;
      for (const w of [...this.#waiters]) {
        if (!this.#taken.has(i) && w.pred(ev)) this.#settle(w, ev, i);
      }
    });
  }

  /** Open a socket to `baseUrl` (http://...) with the given cookie; resolves when open. */
  static async connect(baseUrl: string, cookie: string | null): Promise<WsClient> {
    const url = baseUrl.replace(/^http/, "ws") + "/api/v1/ws";
    // Deno's WebSocket takes headers (the DOM typings do not know this option)
    const DenoWebSocket = WebSocket as unknown as new (
      url: string,
      opts?: { headers?: Record<string, string> },
    ) => WebSocket;
    const socket = new DenoWebSocket(url, cookie ? { headers: { cookie } } : undefined);
    const c = new WsClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error("websocket failed to open")), {
        once: true,
      });
    });
    return c;
  }

  #settle(w: Waiter, ev: Ev, i: number) {
    clearTimeout(w.timer);
    this.#waiters.delete(w);
    this.#taken.add(i);
    w.resolve(ev);
  }

  /**
   * The earliest event matching `pred` not returned before (already received or still to come);
   * fails after `timeoutMs`.
   */
  next(pred: (e: Ev) => boolean = () => true, timeoutMs = 10_000): Promise<Ev> {
    for (let i = 0; i < this.events.length; i++) {
      if (!this.#taken.has(i) && pred(this.events[i])) {
        this.#taken.add(i);
        return Promise.resolve(this.events[i]);
      }
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(w);
          reject(
            new Error(
              `no matching event within ${timeoutMs} ms; got ${
                JSON.stringify(this.events.slice(-5))
              }`,
            ),
          );
        }, timeoutMs),
      };
      this.#waiters.add(w);
    });
  }

  /** The next event of a type (optionally for a ticket). */
  nextOf(type: string, ticketId?: number, timeoutMs?: number): Promise<Ev> {
    return this.next(
      (e) => e.type === type && (ticketId === undefined || e.ticket_id === ticketId),
      timeoutMs,
    );
  }

  send(msg: unknown): void {
    this.socket.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Subscribe and wait for the presence answer (the subscription is live after it). */
  async subscribe(ticketId: number): Promise<Ev> {
    this.send({ type: "subscribe", ticket_id: ticketId });
    return await this.nextOf("presence", ticketId);
  }

  /** Events of a type received so far. */
  all(type: string): Ev[] {
    return this.events.filter((e) => e.type === type);
  }

  /** Resolves with the close event. */
  get closed(): Promise<CloseEvent> {
    return this.#closed;
  }

  /** Close and wait for the close handshake. */
  async close(): Promise<void> {
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new Error("closed"));
    }
    this.#waiters.clear();
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close(1000);
    await this.#closed;
  }
}

/** A customer's mail arriving as a new Inbox ticket (stored the way the importer stores it). */
export async function mailTicket(kv: Deno.Kv, subject = "Printer on fire"): Promise<number> {
  const res = await createTicket(kv, {
    subject,
    source: "email",
    from_name: "Carol Customer",
    from_email: "carol@customer.test",
    customer_id: null,
    first: {
      direction: "inbound",
      author_name: "Carol Customer",
      author_email: "carol@customer.test",
      author_user_id: null,
      body_text: "Help, please.",
      body_html: null,
      via_email: true,
      message_id: `<${crypto.randomUUID()}@customer.test>`,
      auto: false,
    },
  });
  if (res.duplicate) throw new Error("mailTicket: duplicate");
  return res.ticket.id;
}

/** The part of a test client `agent` needs (tests/support/app.ts clients fit). */
export interface ClientLike {
  cookie: string | null;
  // deno-lint-ignore no-explicit-any
  json(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

/** Create an agent with helpdesk access (as the admin) and sign them in. */
export async function agent<C extends ClientLike>(
  t: { client(email?: string, password?: string): Promise<C> },
  name: string,
): Promise<{ client: C; user: { id: string; name: string } }> {
  const admin = await t.client();
  const email = `${name.toLowerCase()}@desk.test`;
  const r = await admin.json("POST", "/api/v1/admin/users", {
    email,
    name,
    password: "agent-pass-123",
    role: "agent",
    helpdesk_enabled: true,
  });
  if (r.status !== 201) throw new Error(`agent: ${r.status} ${JSON.stringify(r.body)}`);
  return { client: await t.client(email, "agent-pass-123"), user: r.body.user };
}
