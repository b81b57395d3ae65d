/**
 * SMTP delivery through nodemailer: a transport from the settings (implicit TLS, STARTTLS or
 * plain; certificate check on or off; optional auth), one-shot sends with an overall time
 * limit, and errors turned into sentences an admin can act on ("Recipient <x> was rejected:
 * 550 ...", "TLS certificate of mail.example.com could not be verified: ...").
 */
import nodemailer from "nodemailer";
import { isIP } from "node:net";
import type { SendMailOptions } from "nodemailer";

export type SmtpSecurity = "tls" | "starttls" | "none";

/** Everything needed to open an SMTP session. */
export interface SmtpConnection {
  host: string;
  port: number;
  security: SmtpSecurity;
  tls_verify: boolean;
  /** Empty: no authentication. */
  username: string;
  password: string | null;
}

/** Time limits of one SMTP session (ms). */
export interface SmtpTimeouts {
  connection: number;
  greeting: number;
  socket: number;
  /** The whole send, connect to final reply. */
  total: number;
}

/** Limits for queued deliveries. */
export const SEND_TIMEOUTS: SmtpTimeouts = {
  connection: 15_000,
  greeting: 15_000,
  socket: 60_000,
  total: 120_000,
};
/** Shorter limits for the admin's "Send test" so the form answers quickly. */
export const TEST_TIMEOUTS: SmtpTimeouts = {
  connection: 10_000,
  greeting: 10_000,
  socket: 20_000,
  total: 30_000,
};

/** The nodemailer SMTP options WarmDesk sets. */
export interface TransportOptions {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  ignoreTLS: boolean;
  tls: { rejectUnauthorized: boolean; servername?: string };
  connectionTimeout: number;
  greetingTimeout: number;
  socketTimeout: number;
  logger: false;
  debug: false;
  auth?: { user: string; pass: string };
}

/** nodemailer options for a connection. */
export function transportOptions(
  conn: SmtpConnection,
  t: SmtpTimeouts = SEND_TIMEOUTS,
): TransportOptions {
  const opts: TransportOptions = {
    host: conn.host,
    port: conn.port,
    secure: conn.security === "tls",
    requireTLS: conn.security === "starttls",
    ignoreTLS: conn.security === "none",
    // SNI takes host names only (RFC 6066); IP literals are checked against the cert's IP SANs
    tls: isIP(conn.host)
      ? { rejectUnauthorized: conn.tls_verify }
      : { rejectUnauthorized: conn.tls_verify, servername: conn.host },
    connectionTimeout: t.connection,
    greetingTimeout: t.greeting,
    socketTimeout: t.socket,
    logger: false,
    debug: false,
  };
  if (conn.username !== "") opts.auth = { user: conn.username, pass: conn.password ?? "" };
  return opts;
}

/** What went wrong, for the admin and for the retry decision. */
export type SmtpErrorKind =
  | "dns"
  | "refused"
  | "timeout"
  | "tls"
  | "auth"
  | "sender"
  | "recipient"
  | "message"
  | "protocol"
  | "network"
  | "config";

/** A failed SMTP attempt: a precise message; `permanent` when retrying cannot help. */
export class SmtpSendError extends Error {
  constructor(
    message: string,
    readonly kind: SmtpErrorKind,
    readonly permanent: boolean,
    readonly responseCode: number | null = null,
  ) {
    super(message);
    this.name = "SmtpSendError";
  }
}

interface NodemailerError {
  code?: string;
  command?: string;
  responseCode?: number;
  response?: string;
  message?: string;
  errno?: number;
}

const TLS_RE =
  /certificate|self[- ]signed|altnames|CERT_|unable to verify|\bSSL\b|\bTLS\b|wrong version|handshake|alert|InvalidContentType|corrupt message/i;

function oneLine(s: string, max = 300): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > max ? t.slice(0, max) + "…" : t;
}

/**
 * Turn a nodemailer error into a sentence naming the host, the address or the step that
 * failed. Recipient or message rejections with a 5xx answer are permanent; everything else
 * (DNS, refused, timeouts, TLS, authentication, a rejected sender) may be fixed by the admin
 * or by time, so it is retried.
 */
export function describeSmtpError(
  err: unknown,
  conn: Pick<SmtpConnection, "host" | "port" | "username">,
  envelope?: { from?: string; to?: string },
): SmtpSendError {
  if (err instanceof SmtpSendError) return err;
  const e = (err ?? {}) as NodemailerError;
  const msg = oneLine(String(e.message ?? err));
  const where = `${conn.host}:${conn.port}`;
  const reply = oneLine(e.response ?? msg);
  const code = e.responseCode ?? null;
  const permanent5xx = code !== null && code >= 500 && code < 600 && code !== 530;

  if (e.code === "EDNS" || /ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(msg)) {
    return new SmtpSendError(
      `Host "${conn.host}" was not found (DNS lookup failed: ${msg})`,
      "dns",
      false,
    );
  }
  if (/ECONNREFUSED/.test(msg)) {
    return new SmtpSendError(
      `Connection to ${where} was refused: is the SMTP server running and the port right?`,
      "refused",
      false,
    );
  }
  if (e.code === "EAUTH") {
    const who = conn.username ? ` for user "${conn.username}"` : "";
    return new SmtpSendError(
      `Authentication${who} failed at ${where}: ${reply}`,
      "auth",
      false,
      code,
    );
  }
  if (e.code === "ETLS" || (e.code === "ESOCKET" && TLS_RE.test(msg))) {
    if (/certificate|self[- ]signed|altnames|CERT_|unable to verify/i.test(msg)) {
      return new SmtpSendError(
        `TLS certificate of ${conn.host} could not be verified: ${msg} (turn off "verify ` +
          `certificate" only for a server you trust)`,
        "tls",
        false,
      );
    }
    if (e.command === "STARTTLS") {
      return new SmtpSendError(
        `${where} does not offer STARTTLS (${reply}): choose TLS if the port expects TLS ` +
          `from the start, or "none" for an unencrypted server`,
        "tls",
        false,
        code,
      );
    }
    return new SmtpSendError(
      `TLS handshake with ${where} failed: ${msg}. Does this port expect STARTTLS (587) ` +
        `rather than TLS from the start (465)?`,
      "tls",
      false,
    );
  }
  if (e.code === "ETIMEDOUT" || e.code === "ETIMEOUT") {
    const greeting = /greeting/i.test(msg);
    return new SmtpSendError(
      greeting
        ? `${where} accepted the connection but sent no SMTP greeting: does this port expect ` +
          `TLS from the start (choose TLS)?`
        : `No answer from ${where} in time (${msg})`,
      "timeout",
      false,
    );
  }
  if (e.code === "EENVELOPE" && e.command === "MAIL FROM") {
    const from = envelope?.from ? ` <${envelope.from}>` : "";
    return new SmtpSendError(
      code === 530
        ? `${where} requires authentication before sending (${reply}): set a username and password`
        : `Sender${from} was rejected by ${where}: ${reply}`,
      "sender",
      false,
      code,
    );
  }
  if (e.code === "EENVELOPE" && /^RCPT/.test(e.command ?? "")) {
    const to = envelope?.to ? ` <${envelope.to}>` : "";
    return new SmtpSendError(
      `Recipient${to} was rejected by ${where}: ${reply}`,
      "recipient",
      permanent5xx,
      code,
    );
  }
  if (e.code === "EMESSAGE" || e.command === "DATA" || e.command === "DATA END") {
    return new SmtpSendError(
      `The message was rejected by ${where}: ${reply}`,
      "message",
      permanent5xx,
      code,
    );
  }
  if (e.code === "EPROTOCOL" || e.code === "EENVELOPE") {
    return new SmtpSendError(`SMTP error at ${where}: ${reply}`, "protocol", false, code);
  }
  if (/ECONNRESET|EPIPE|closed/i.test(msg)) {
    return new SmtpSendError(`Connection to ${where} was closed: ${msg}`, "network", false);
  }
  return new SmtpSendError(`Could not talk to ${where}: ${msg}`, "network", false, code);
}

async function withTotalLimit<T>(
  tr: { close(): void },
  conn: SmtpConnection,
  ms: number,
  work: () => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      tr.close();
      reject(
        new SmtpSendError(
          `${conn.host}:${conn.port} did not finish within ${Math.round(ms / 1000)} s`,
          "timeout",
          false,
        ),
      );
    }, ms);
  });
  try {
    return await Promise.race([work(), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Result of an accepted send. */
export interface SendResult {
  /** The server's final reply, e.g. "250 2.0.0 Ok: queued as ABC". */
  response: string;
  accepted: string[];
}

/**
 * Send one mail in its own SMTP session. Throws {@link SmtpSendError}; a partial acceptance
 * (some recipients rejected) counts as a recipient error.
 */
export async function sendViaSmtp(
  conn: SmtpConnection,
  mail: SendMailOptions,
  t: SmtpTimeouts = SEND_TIMEOUTS,
): Promise<SendResult> {
  const tr = nodemailer.createTransport(transportOptions(conn, t));
  const envelope = {
    from: typeof mail.envelope?.from === "string" ? mail.envelope.from : undefined,
    to: typeof mail.envelope?.to === "string" ? mail.envelope.to : undefined,
  };
  try {
    const info = await withTotalLimit(tr, conn, t.total, () => tr.sendMail(mail));
    const rejected = (info.rejected ?? []).map(String);
    if (rejected.length > 0) {
      throw new SmtpSendError(
        `Recipient <${rejected.join(">, <")}> was rejected by ${conn.host}:${conn.port}`,
        "recipient",
        true,
      );
    }
    return { response: String(info.response ?? ""), accepted: (info.accepted ?? []).map(String) };
  } catch (e) {
    throw describeSmtpError(e, conn, envelope);
  } finally {
    tr.close();
  }
}

/**
 * "Send test": connect, TLS and authenticate (`verify`); with `to`, also send a short test mail
 * from `from`. Never throws: answers `{ok}` or `{ok: false, error}`.
 */
export async function testSmtp(
  conn: SmtpConnection,
  opts: { to?: string; from?: string; fromName?: string } = {},
): Promise<{ ok: true } | { ok: false; error: string }> {
  try {
    if (opts.to && opts.from) {
      await sendViaSmtp(conn, {
        from: { name: opts.fromName ?? "", address: opts.from },
        to: opts.to,
        envelope: { from: opts.from, to: opts.to },
        subject: "WarmDesk test message",
        text: "This is a test message from WarmDesk: outgoing mail works.\n",
      }, TEST_TIMEOUTS);
    } else {
      const tr = nodemailer.createTransport(transportOptions(conn, TEST_TIMEOUTS));
      try {
        await withTotalLimit(tr, conn, TEST_TIMEOUTS.total, () => tr.verify());
      } catch (e) {
        throw describeSmtpError(e, conn);
      } finally {
        tr.close();
      }
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}
