/**
 * Helpers for the incoming-mail tests: the Dovecot that `deno task test` starts (env from
 * tests/support/mailstack.sh), a pool user held per test and a throwaway mailbox pair on it
 * (`t-<uuid>` and its processed mailbox) so parallel tests never collide, APPEND, mailbox counts, and a test app
 * configured to poll that mailbox.
 */
import { Buffer } from "node:buffer";
import { ImapFlow } from "imapflow";
import { startTestApp, type TestApp, type TestAppOptions } from "./support/app.ts";
import { mailEnv, takeUser } from "./support/mailstack.ts";
import {
  type ImapSettingsPatch,
  type ImapSettingsRecord,
  saveImapSettings,
} from "../lib/mail/imap_settings.ts";

export const stack = {
  host: Deno.env.get("IMAP_HOST") ?? "127.0.0.1",
  port: Number(Deno.env.get("IMAP_PORT") ?? 10143),
  tlsPort: Number(Deno.env.get("IMAPS_PORT") ?? 10993),
  dir: Deno.env.get("MAILSTACK_DIR") ?? "",
  domain: Deno.env.get("MAIL_DOMAIN") ?? "example.test",
  poolSize: Number(Deno.env.get("MAILSTACK_POOL_SIZE") ?? 20),
};

/** The stack's self-signed certificate (PEM), for tests that verify TLS. */
export function stackCa(): string {
  return mailEnv().ca;
}

export interface MailUser {
  user: string;
  pass: string;
  /** The user's Maildir (for tests that change a mailbox's permissions). */
  maildir: string;
  /** Give the pool user back (other tests may take it, and wipe its mailboxes). */
  release(): Promise<void>;
}

/**
 * A pool user held by this test alone (tests/support/mailstack.ts `takeUser`: lock file,
 * INBOX emptied, other mailboxes deleted). Release it when done; `testBox()` without an
 * argument takes and releases one by itself.
 *
 * `mailUser(n)` (legacy, synchronous): the fixed pool user `user<n>`, NOT locked, so a test
 * elsewhere that takes it with `takeUser` may wipe its mailboxes meanwhile; prefer
 * `await mailUser()`. Its `release()` does nothing.
 */
export function mailUser(slot: number): MailUser;
export function mailUser(): Promise<MailUser>;
export function mailUser(slot?: number): MailUser | Promise<MailUser> {
  if (slot !== undefined) {
    const n = ((slot - 1) % stack.poolSize) + 1;
    const user = `user${n}@${stack.domain}`;
    return {
      user,
      pass: `pass-${n}`,
      maildir: `${stack.dir}/mail/${user}/Maildir`,
      release: () => Promise.resolve(),
    };
  }
  return (async () => {
    const env = mailEnv();
    const u = await takeUser();
    return {
      user: u.email,
      pass: u.password,
      maildir: `${env.dir}/mail/${u.email}/Maildir`,
      release: () => u.release(),
    };
  })();
}

/** A raw client (the "other mail client" of the tests). */
export async function rawClient(u: Pick<MailUser, "user" | "pass">): Promise<ImapFlow> {
  const c = new ImapFlow({
    host: stack.host,
    port: stack.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: u.user, pass: u.pass },
    logger: false,
    disableAutoIdle: true,
  });
  c.on("error", () => {});
  await c.connect();
  return c;
}

export interface TestBox {
  mailbox: string;
  processed: string;
  client: ImapFlow;
  user: MailUser;
  append(raw: string | Uint8Array, flags?: string[]): Promise<void>;
  count(box?: string): Promise<number>;
  /** Delete both mailboxes and log out. */
  close(): Promise<void>;
}

/**
 * A fresh mailbox (created) and the name of its processed mailbox (not created), of a pool
 * user taken for it (or of `shared`, which the caller releases).
 */
export async function testBox(shared?: MailUser): Promise<TestBox> {
  const u = shared ?? await mailUser();
  const id = crypto.randomUUID().slice(0, 13);
  const mailbox = `t-${id}`, processed = `t-${id}-done`;
  const client = await rawClient(u);
  await client.mailboxCreate(mailbox);
  return {
    mailbox,
    processed,
    client,
    user: u,
    async append(raw, flags = []) {
      await client.append(mailbox, typeof raw === "string" ? raw : Buffer.from(raw), flags);
    },
    async count(box = mailbox) {
      const st = await client.status(box, { messages: true }).catch(() => false as const);
      return st && typeof st === "object" ? st.messages ?? 0 : -1;
    },
    async close() {
      for (const b of [mailbox, processed]) await client.mailboxDelete(b).catch(() => {});
      await client.logout().catch(() => {});
      client.close();
      if (!shared) await u.release();
    },
  };
}

/** Settings that poll `box` as its user over plain IMAP. */
export function boxSettings(box: TestBox): ImapSettingsPatch {
  const u = box.user;
  return {
    host: stack.host,
    port: stack.port,
    security: "none",
    tls_verify: false,
    username: u.user,
    password: u.pass,
    mailbox: box.mailbox,
    processed_mailbox: box.processed,
    idle: false,
    // the tests drive polls themselves; scheduled polls would race them
    enabled: false,
  };
}

/** A test app (background work off unless asked) configured for `box`. */
export async function appFor(
  box: TestBox,
  over: ImapSettingsPatch = {},
  opts: TestAppOptions = {},
): Promise<TestApp & { settings: ImapSettingsRecord }> {
  const t = await startTestApp({ start: false, ...opts });
  const settings = await saveImapSettings(t.app.svc, { ...boxSettings(box), ...over });
  return Object.assign(t, { settings });
}

export interface MailSpec {
  from?: string;
  to?: string;
  subject?: string;
  /** null: no Message-ID header at all. */
  messageId?: string | null;
  inReplyTo?: string;
  references?: string[];
  headers?: Record<string, string>;
  body?: string;
}

/** A small RFC 5322 message. */
export function mail(spec: MailSpec = {}): string {
  const lines = [
    `From: ${spec.from ?? "Cara Customer <cara@customer.example>"}`,
    `To: ${spec.to ?? "support@example.test"}`,
    `Subject: ${spec.subject ?? "Printer on fire"}`,
    `Date: ${new Date().toUTCString()}`,
  ];
  const mid = spec.messageId === undefined ? newId() : spec.messageId;
  if (mid !== null) lines.push(`Message-ID: ${mid}`);
  if (spec.inReplyTo) lines.push(`In-Reply-To: ${spec.inReplyTo}`);
  if (spec.references?.length) lines.push(`References: ${spec.references.join(" ")}`);
  for (const [k, v] of Object.entries(spec.headers ?? {})) lines.push(`${k}: ${v}`);
  lines.push("MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "");
  lines.push(spec.body ?? "Hello, it burns.", "");
  return lines.join("\r\n");
}

/** A fresh Message-ID. */
export function newId(host = "customer.example"): string {
  return `<${crypto.randomUUID()}@${host}>`;
}

/**
 * A fixture as bytes: tests/fixtures/mail (the mail-format cases) or, for "imap/<name>",
 * tests/fixtures/imap (cases of the incoming-mail tests).
 */
export function fixture(name: string): Uint8Array {
  const path = name.startsWith("imap/") ? name : `mail/${name}`;
  return Deno.readFileSync(new URL(`./fixtures/${path}`, import.meta.url));
}

/** Poll through the scheduler's "Poll now" (lease and last poll included). */
// deno-lint-ignore no-explicit-any
export async function pollNow(t: TestApp, poll?: Record<string, unknown>): Promise<any> {
  return await t.app.svc.ext.pollNow(poll);
}
