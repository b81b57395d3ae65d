/**
 * In-process SMTP capture server for tests (npm smtp-server): what the app sends ends up in
 * `sink.messages` instead of leaving the machine.
 *
 *   const sink = await startSmtpSink({ auth: { user: "u", pass: "p" }, tls: "starttls" });
 *   ... point the app's SMTP settings at sink.host / sink.port ...
 *   const [mail] = await sink.waitFor(1);
 *   sink.refuse(451);        // every MAIL FROM now fails with 451 (temporary) - or 550 (permanent)
 *   await sink.down();       // port closed, live sessions dropped ("SMTP down")
 *   await sink.up();         // listening again on the same port
 *   await sink.close();
 *
 * TLS uses the mail stack's certificate (mailEnv().caPath / keyPath) unless `cert`/`key` are given;
 * clients verify it with `tls: { ca: mailEnv().ca }`.
 * Standalone: `deno run -A tests/support/smtp_sink.ts` (SMTP_PORT default 10026).
 */
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import nodemailer from "nodemailer";
import { Buffer } from "node:buffer";
import { mailEnv } from "./mailstack.ts";

/** One message the sink accepted. */
export interface CapturedMail {
  /** Envelope sender (MAIL FROM), "" for the null sender. */
  from: string;
  /** Envelope recipients (RCPT TO). */
  to: string[];
  raw: Uint8Array;
  receivedAt: Date;
  /** User name of a successful AUTH, else undefined. */
  user?: string;
  /** True when the session ran over TLS (STARTTLS or implicit). */
  secure: boolean;
}

/** Options of {@link startSmtpSink}. */
export interface SmtpSinkOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Require AUTH PLAIN/LOGIN with these credentials (else no AUTH is offered). */
  auth?: { user: string; pass: string };
  /** "none" (default), "starttls" (offered, not required) or "implicit" (TLS from the start). */
  tls?: "none" | "starttls" | "implicit";
  /** PEM certificate and key; default: the mail stack's. */
  cert?: string;
  key?: string;
  /** Start refusing mail with this reply code (see {@link SmtpSink.refuse}). */
  refuse?: number;
  /** Also deliver every accepted message into Dovecot over LMTP. */
  lmtpRelay?: { host: string; port: number };
  onMessage?: (m: CapturedMail) => void;
}

/** A running sink. */
export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  /** Accepted messages, oldest first. */
  readonly messages: CapturedMail[];
  /** Failed AUTH attempts so far. */
  readonly authFailures: number;
  /** Whether the port is open. */
  readonly isUp: boolean;
  /** Resolves with the first `n` messages once that many arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<CapturedMail[]>;
  /** Refuse every MAIL FROM with `code` (4xx = temporary, 5xx = permanent) until accept(). */
  refuse(code?: number, message?: string): void;
  /** Accept mail again. */
  accept(): void;
  /** Close the port and drop open sessions (a pooled client sees its connection die). */
  down(): Promise<void>;
  /** Listen again on the same port after down(). */
  up(): Promise<void>;
  /** Forget captured messages. */
  clear(): void;
  /** Stop for good. */
  close(): Promise<void>;
}

/** Starts an SMTP sink on 127.0.0.1. */
export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const host = opts.host ?? "127.0.0.1";
  const mode = opts.tls ?? "none";
  let tlsFiles: { cert: string; key: string } | undefined;
  if (mode !== "none") {
    const env = opts.cert && opts.key ? undefined : mailEnv();
    tlsFiles = {
      cert: opts.cert ?? Deno.readTextFileSync(env!.caPath),
      key: opts.key ?? Deno.readTextFileSync(env!.keyPath),
    };
  }
  const messages: CapturedMail[] = [];
  const waiters = new Set<() => void>();
  let refusal: { code: number; message: string } | null = opts.refuse
    ? { code: opts.refuse, message: "mail refused (test sink)" }
    : null;
  let authFailures = 0;
  const relay = opts.lmtpRelay
    ? nodemailer.createTransport({
      host: opts.lmtpRelay.host,
      port: opts.lmtpRelay.port,
      lmtp: true,
      ignoreTLS: true,
    })
    : null;

  const options: SMTPServerOptions = {
    logger: false,
    size: 50 * 1024 * 1024,
    closeTimeout: 100, // down()/close() must not wait 30 s for idle pooled clients
    authOptional: !opts.auth,
    authMethods: ["PLAIN", "LOGIN"],
    allowInsecureAuth: mode === "none", // with TLS on offer, AUTH only after STARTTLS (like real MTAs)
    disabledCommands: [...(mode === "none" ? ["STARTTLS"] : []), ...(opts.auth ? [] : ["AUTH"])],
    secure: mode === "implicit",
    ...(tlsFiles ?? {}),
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) {
        return cb(null, { user: auth.username });
      }
      authFailures++;
      cb(Object.assign(new Error("invalid credentials"), { responseCode: 535 }));
    },
    onMailFrom(_address, _session, cb) {
      if (!refusal) return cb();
      cb(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
    },
    onData(stream, session, cb) {
      const chunks: Uint8Array[] = [];
      stream.on("data", (c: Uint8Array) => chunks.push(c));
      stream.on("end", async () => {
        const raw = new Uint8Array(Buffer.concat(chunks));
        const mail: CapturedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          receivedAt: new Date(),
          user: typeof session.user === "string" ? session.user : undefined,
          secure: !!session.secure,
        };
        try {
          if (relay) {
            await relay.sendMail({
              envelope: { from: mail.from, to: mail.to },
              raw: Buffer.from(raw),
            });
          }
        } catch (e) {
          return cb(e as Error);
        }
        messages.push(mail);
        opts.onMessage?.(mail);
        for (const w of waiters) w();
        cb(null);
      });
    },
  };

  let server: SMTPServer | null = null;
  let port = opts.port ?? 0;
  const listen = async () => {
    const s = new SMTPServer(options);
    s.on("error", () => {}); // client errors (resets, bad TLS) must not crash the test process
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.listen(port, host, () => resolve());
    });
    port = (s.server.address() as { port: number }).port;
    server = s;
  };
  const shutdown = async () => {
    const s = server;
    if (!s) return;
    server = null;
    const closed = new Promise<void>((r) => s.close(() => r()));
    // smtp-server only drops live sessions after closeTimeout; do it now, like a crashed MTA
    for (const c of (s as unknown as { connections: Set<{ close(): void }> }).connections) {
      c.close();
    }
    await closed;
  };
  await listen();

  return {
    host,
    get port() {
      return port;
    },
    messages,
    get authFailures() {
      return authFailures;
    },
    get isUp() {
      return server !== null;
    },
    waitFor(n, timeoutMs = 10000) {
      if (messages.length >= n) return Promise.resolve(messages.slice(0, n));
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length < n) return;
          done();
          resolve(messages.slice(0, n));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`smtp sink: ${messages.length} of ${n} messages after ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    refuse(code = 451, message = "mail refused (test sink)") {
      refusal = { code, message };
    },
    accept() {
      refusal = null;
    },
    down: shutdown,
    async up() {
      if (!server) await listen();
    },
    clear() {
      messages.length = 0;
    },
    async close() {
      await shutdown();
      relay?.close();
    },
  };
}

if (import.meta.main) {
  const sink = await startSmtpSink({
    port: Number(Deno.env.get("SMTP_PORT") ?? 10026),
    onMessage: (m) =>
      console.log(`captured ${m.raw.length} bytes from=<${m.from}> to=${m.to.join(",")}`),
  });
  console.log(`smtp sink listening on 127.0.0.1:${sink.port}`);
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(sig, () => sink.close().then(() => Deno.exit(0)));
  }
}
