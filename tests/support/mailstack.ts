/**
 * Helpers for tests that use the loopback mail stack started by `tests/support/mailstack.sh`
 * (tests/run.sh starts it and exports its env). Everything here reads that env; when it is
 * missing, {@link mailEnv} throws, so a test that needs mail FAILS instead of skipping.
 *
 * Parallel tests must not share a mailbox: take a pool user per test,
 * `await using u = await takeUser();` (clean INBOX, no other mailboxes, released on scope exit).
 */
import { ImapFlow, type ImapFlowOptions } from "imapflow";
import nodemailer from "nodemailer";
import PostalMime from "postal-mime";
import { Buffer } from "node:buffer";
import { oauthProviderClient, type OAuthProviderControl } from "./oauth_provider.ts";

/** The running stack, as exported by mailstack.sh. */
export interface MailEnv {
  /** Stack directory (logs in `<dir>/log`). */
  dir: string;
  /** PEM of the stack's self-signed certificate (CN=localhost, IP 127.0.0.1). */
  ca: string;
  caPath: string;
  keyPath: string;
  /** Mail domain of all local users, e.g. `example.test`. */
  domain: string;
  host: string;
  /** IMAP, plain and STARTTLS. */
  imapPort: number;
  /** IMAP over implicit TLS. */
  imapsPort: number;
  lmtpPort: number;
  /** Postfix SMTP (local users -> Dovecot, others -> catchall); null without Postfix. */
  postfixPort: number | null;
  oauthPort: number;
  /** Base URL of the fake OAuth2 provider (also Dovecot's introspection endpoint). */
  oauthUrl: string;
  poolSize: number;
}

/** Reads the stack's env; throws a clear error when the stack is not running. */
export function mailEnv(): MailEnv {
  const get = (k: string) => Deno.env.get(k);
  const dir = get("MAILSTACK_DIR");
  const hint = "start it with `deno task test` (tests/run.sh) or " +
    '`env=$(tests/support/mailstack.sh start) && eval "$env"`';
  if (!dir || !get("IMAP_PORT") || !get("OAUTH_URL")) {
    throw new Error(`mail stack env missing (MAILSTACK_DIR, IMAP_PORT, OAUTH_URL): ${hint}`);
  }
  let ca: string;
  try {
    ca = Deno.readTextFileSync(get("MAILSTACK_CA") ?? `${dir}/tls/cert.pem`);
  } catch (e) {
    throw new Error(`mail stack at ${dir} is gone (${(e as Error).message}): ${hint}`);
  }
  return {
    dir,
    ca,
    caPath: get("MAILSTACK_CA") ?? `${dir}/tls/cert.pem`,
    keyPath: get("MAILSTACK_KEY") ?? `${dir}/tls/key.pem`,
    domain: get("MAIL_DOMAIN") ?? "example.test",
    host: get("IMAP_HOST") ?? "127.0.0.1",
    imapPort: Number(get("IMAP_PORT")),
    imapsPort: Number(get("IMAPS_PORT") ?? 10993),
    lmtpPort: Number(get("LMTP_PORT") ?? 10024),
    postfixPort: get("POSTFIX_PORT") ? Number(get("POSTFIX_PORT")) : null,
    oauthPort: Number(get("OAUTH_PORT") ?? 10090),
    oauthUrl: get("OAUTH_URL")!,
    poolSize: Number(get("MAILSTACK_POOL_SIZE") ?? 20),
  };
}

/** A mailbox user of the stack. */
export interface MailUser {
  email: string;
  password: string;
}

/** Connection security: none, STARTTLS on the IMAP port, or implicit TLS on the IMAPS port. */
export type TlsMode = "plain" | "starttls" | "tls";

/** Password of a stack user: alice/bob/catchall -> `<name>-pass`, userN -> `pass-N`. */
export function passwordOf(email: string): string {
  const local = email.split("@")[0];
  const n = local.match(/^user(\d+)$/)?.[1];
  if (n) return `pass-${n}`;
  if (["alice", "bob", "catchall"].includes(local)) return `${local}-pass`;
  throw new Error(`${email} is not a mail stack user`);
}

/** A fixed stack user (alice, bob, catchall), for tests that only read. */
export function stackUser(name: "alice" | "bob" | "catchall"): MailUser {
  const email = `${name}@${mailEnv().domain}`;
  return { email, password: passwordOf(email) };
}

function asUser(user: string | MailUser, pass?: string): MailUser {
  if (typeof user !== "string") return user;
  const email = user.includes("@") ? user : `${user}@${mailEnv().domain}`;
  return { email, password: pass ?? passwordOf(email) };
}

function connectionOptions(mode: TlsMode): ImapFlowOptions {
  const env = mailEnv();
  return {
    host: env.host,
    port: mode === "tls" ? env.imapsPort : env.imapPort,
    secure: mode === "tls",
    doSTARTTLS: mode === "starttls" ? true : mode === "plain" ? false : undefined,
    tls: { ca: env.ca },
    logger: false,
  } as ImapFlowOptions;
}

/** An (unconnected) imapflow client logging in with a password; call `connect()`. */
export function imapClient(
  user: string | MailUser,
  pass?: string,
  mode: TlsMode = "plain",
): ImapFlow {
  const u = asUser(user, pass);
  return new ImapFlow({ ...connectionOptions(mode), auth: { user: u.email, pass: u.password } });
}

/** An (unconnected) imapflow client logging in with an OAuth2 access token. */
export function imapOAuthClient(
  email: string,
  accessToken: string,
  mode: TlsMode = "plain",
): ImapFlow {
  return new ImapFlow({ ...connectionOptions(mode), auth: { user: email, accessToken } });
}

/** Connects as `user`, runs `fn`, always logs out. */
export async function withImap<T>(
  user: string | MailUser,
  fn: (c: ImapFlow) => Promise<T>,
): Promise<T> {
  const c = imapClient(user);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.logout().catch(() => c.close());
  }
}

async function ensureMailbox(c: ImapFlow, box: string) {
  if (box.toUpperCase() === "INBOX") return;
  const exists = (await c.list()).some((m) => m.path === box);
  if (!exists) await c.mailboxCreate(box);
}

/** Appends a raw message to `mailbox` (created when missing); answers the new UID if known. */
export async function appendMail(
  user: string | MailUser,
  mailbox: string,
  raw: string | Uint8Array,
  flags: string[] = [],
): Promise<number | undefined> {
  return await withImap(user, async (c) => {
    await ensureMailbox(c, mailbox);
    const res = await c.append(mailbox, typeof raw === "string" ? raw : Buffer.from(raw), flags);
    return res ? res.uid : undefined;
  });
}

/** One message as listed by {@link listMailbox}. */
export interface ListedMessage {
  uid: number;
  flags: string[];
  subject: string;
  messageId: string;
  /** Header lines parsed by postal-mime (keys lower-case). */
  headers: { key: string; value: string }[];
  source: Uint8Array;
}

/** Every message in `box`, oldest first; [] when the mailbox does not exist. */
export async function listMailbox(user: string | MailUser, box: string): Promise<ListedMessage[]> {
  return await withImap(user, async (c) => {
    if (box.toUpperCase() !== "INBOX" && !(await c.list()).some((m) => m.path === box)) return [];
    const lock = await c.getMailboxLock(box);
    try {
      const out: ListedMessage[] = [];
      const exists = typeof c.mailbox === "object" ? c.mailbox.exists : 0;
      if (!exists) return out;
      for await (const m of c.fetch("1:*", { uid: true, flags: true, source: true })) {
        const source = new Uint8Array(m.source!);
        const p = await PostalMime.parse(source);
        out.push({
          uid: m.uid,
          flags: [...(m.flags ?? [])],
          subject: p.subject ?? "",
          messageId: p.messageId ?? "",
          headers: p.headers.map((h) => ({ key: h.key, value: h.value })),
          source,
        });
      }
      return out.sort((a, b) => a.uid - b.uid);
    } finally {
      lock.release();
    }
  });
}

/** Polls `box` until it holds at least `n` messages (mail through Postfix arrives async). */
export async function waitForMailbox(
  user: string | MailUser,
  box: string,
  n: number,
  timeoutMs = 15000,
): Promise<ListedMessage[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await listMailbox(user, box);
    if (list.length >= n) return list;
    if (Date.now() > deadline) {
      throw new Error(`${box} of ${asUser(user).email}: ${list.length} of ${n} messages`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends a raw message through the stack's Postfix (real SMTP -> LMTP -> Dovecot delivery). */
export async function deliver(
  to: string | string[],
  raw: string | Uint8Array,
  from = `sender@${mailEnv().domain}`,
): Promise<void> {
  const env = mailEnv();
  if (!env.postfixPort) throw new Error("mail stack runs without Postfix (POSTFIX_PORT unset)");
  const tr = nodemailer.createTransport({
    host: env.host,
    port: env.postfixPort,
    secure: false,
    ignoreTLS: true,
  });
  try {
    await tr.sendMail({
      envelope: { from, to: Array.isArray(to) ? to : [to] },
      raw: typeof raw === "string" ? raw : Buffer.from(raw),
    });
  } finally {
    tr.close();
  }
}

/** Control client for the stack's fake OAuth2 provider (use {@link uniqueClient} per test). */
export function oauthProvider(): OAuthProviderControl {
  return oauthProviderClient(mailEnv().oauthUrl);
}

export { uniqueClient } from "./oauth_provider.ts";

/** A pool user held by one test; give it back with `release()` or `await using`. */
export interface PoolUser extends MailUser, AsyncDisposable {
  release(): Promise<void>;
}

const held = new Set<string>();
// a test module that forgets to release still frees its users when its worker ends
globalThis.addEventListener("unload", () => {
  for (const f of held) {
    try {
      Deno.removeSync(f);
    } catch { /* already gone */ }
  }
});

function pidAlive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/** Creates the lock file atomically; steals it when its holder process is gone. */
function tryLock(file: string): boolean {
  try {
    const f = Deno.openSync(file, { write: true, createNew: true });
    f.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
    f.close();
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  const holder = Number(Deno.readTextFileSync(file).trim() || "0");
  if (holder && holder !== Deno.pid && !pidAlive(holder)) {
    Deno.removeSync(file);
    return tryLock(file);
  }
  return false;
}

/** Empties a mailbox user: every mailbox but INBOX deleted, INBOX expunged. */
async function cleanUser(u: MailUser) {
  await withImap(u, async (c) => {
    const boxes = (await c.list()).map((m) => m.path).filter((p) => p.toUpperCase() !== "INBOX");
    // children before parents
    for (const b of boxes.sort((a, b) => b.length - a.length)) await c.mailboxDelete(b);
    const lock = await c.getMailboxLock("INBOX");
    try {
      if (typeof c.mailbox === "object" && c.mailbox.exists > 0) await c.messageDelete("1:*");
    } finally {
      lock.release();
    }
  });
}

/** Options of {@link takeUser}. */
export interface TakeUserOptions {
  /** How long to wait for a free user (default 60 s). */
  waitMs?: number;
  /** Take this pool user only, e.g. "user3@example.test". */
  user?: string;
}

/**
 * Takes a pool user (`user1..userN@domain`, password `pass-N`) no other test holds, across the
 * parallel test workers and processes of this stack (lock files in `<stack>/pool`). Its INBOX
 * is emptied and its other mailboxes deleted first. Waits up to `waitMs` for a free user.
 */
export async function takeUser(opts: TakeUserOptions = {}): Promise<PoolUser> {
  const env = mailEnv();
  const deadline = Date.now() + (opts.waitMs ?? 60000);
  Deno.mkdirSync(`${env.dir}/pool`, { recursive: true });
  const only = opts.user ? Number(opts.user.match(/^user(\d+)@/)?.[1]) : 0;
  if (opts.user && !(only >= 1 && only <= env.poolSize)) {
    throw new Error(`${opts.user} is not a pool user (user1..user${env.poolSize})`);
  }
  const start = Math.floor(Math.random() * env.poolSize);
  for (;;) {
    for (let k = 0; k < (only ? 1 : env.poolSize); k++) {
      const n = only || ((start + k) % env.poolSize) + 1;
      const file = `${env.dir}/pool/user${n}.lock`;
      if (!tryLock(file)) continue;
      held.add(file);
      const email = `user${n}@${env.domain}`;
      const release = async () => {
        if (!held.delete(file)) return;
        await Deno.remove(file).catch(() => {});
      };
      const u: PoolUser = {
        email,
        password: passwordOf(email),
        release,
        [Symbol.asyncDispose]: release,
      };
      try {
        await cleanUser(u);
      } catch (e) {
        await release();
        throw e;
      }
      return u;
    }
    if (Date.now() > deadline) {
      throw new Error(
        only
          ? `${opts.user} stayed taken`
          : `all ${env.poolSize} pool users are taken (MAILSTACK_POOL_SIZE)`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
