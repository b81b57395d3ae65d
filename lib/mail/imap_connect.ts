/**
 * The transport stage of ingestion: an ImapFlow client built from the settings (TLS, STARTTLS
 * or no TLS; certificate check on or off; password or OAuth2 through the
 * `svc.ext.oauthAccessToken` hook), errors turned into one precise sentence an admin can act
 * on, and the "Test connection" check.
 *
 * @module
 */
import { ImapFlow, type ImapFlowOptions } from "imapflow";
import type { Services } from "../state.ts";
import { imapPassword, type ImapSettingsRecord } from "./imap_settings.ts";
import { preferXoauth2 } from "./oauth2_sasl.ts";

/** Budget for DNS + TCP + TLS handshake. */
export const IMAP_CONNECT_TIMEOUT_MS = 15_000;
/** Budget for the server's greeting once connected. */
export const IMAP_GREETING_TIMEOUT_MS = 10_000;
/** A silent connection is dropped after this long (IDLE is re-issued well before). */
export const IMAP_SOCKET_TIMEOUT_MS = 5 * 60_000;

/** The OAuth2 hook the OAuth2 module installs on `svc.ext`. */
export type OAuthAccessTokenHook = (
  svc: Services,
  opts?: { forceRefresh?: boolean },
) => Promise<{ user: string; accessToken: string }>;

/** Extra client options for tests and tools (never from user input). */
export interface ImapClientExtras {
  /** Extra trusted CA certificates (PEM), e.g. a test server's self-signed certificate. */
  ca?: string;
  connectionTimeout?: number;
  greetingTimeout?: number;
  socketTimeout?: number;
  /** Break and re-issue IDLE after this long (ms). */
  maxIdleTime?: number;
  /** OAuth2: ask the hook for a new access token instead of the cached one. */
  forceRefresh?: boolean;
}

/** An error whose message is already a sentence for the admin. */
export class ImapConnectError extends Error {
  constructor(
    message: string,
    readonly kind:
      | "config"
      | "dns"
      | "refused"
      | "timeout"
      | "tls"
      | "auth"
      | "mailbox"
      | "protocol",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ImapConnectError";
  }
}

/** Credentials for the settings: the sealed password, or an OAuth2 access token. */
async function credentials(
  svc: Services,
  s: ImapSettingsRecord,
  forceRefresh = false,
): Promise<{ user: string; pass?: string; accessToken?: string }> {
  if (s.auth === "oauth2") {
    const hook = svc.ext.oauthAccessToken as OAuthAccessTokenHook | undefined;
    if (!hook) {
      throw new ImapConnectError("OAuth2 sign-in is not available in this build", "config");
    }
    let tok: { user: string; accessToken: string };
    try {
      tok = await hook(svc, forceRefresh ? { forceRefresh: true } : undefined);
    } catch (e) {
      throw new ImapConnectError(
        `OAuth2: no usable access token (${
          (e as Error)?.message ?? e
        }); authorise the account again`,
        "auth",
        { cause: e },
      );
    }
    return { user: tok.user || s.username, accessToken: tok.accessToken };
  }
  return { user: s.username, pass: await imapPassword(svc, s) };
}

/** Build ImapFlow options from settings (no I/O besides reading credentials). */
export async function imapClientOptions(
  svc: Services,
  s: ImapSettingsRecord,
  extraOpts?: ImapClientExtras,
): Promise<ImapFlowOptions> {
  // svc.ext.imapClientExtras: process-wide extras set by tests and tools (a test CA)
  const extras: ImapClientExtras = { ...(svc.ext.imapClientExtras ?? {}), ...(extraOpts ?? {}) };
  if (!s.host) throw new ImapConnectError("No IMAP host is set", "config");
  if (s.auth === "plain" && !s.username) {
    throw new ImapConnectError("No IMAP username is set", "config");
  }
  const tls: Record<string, unknown> = { rejectUnauthorized: s.tls_verify };
  if (extras.ca) tls.ca = extras.ca;
  return {
    host: s.host,
    port: s.port,
    secure: s.security === "tls",
    doSTARTTLS: s.security === "starttls" ? true : s.security === "none" ? false : undefined,
    tls,
    auth: await credentials(svc, s, extras.forceRefresh),
    logger: false,
    // we drive IDLE ourselves; an automatic IDLE would only add round-trips between commands
    disableAutoIdle: true,
    connectionTimeout: extras.connectionTimeout ?? IMAP_CONNECT_TIMEOUT_MS,
    greetingTimeout: extras.greetingTimeout ?? IMAP_GREETING_TIMEOUT_MS,
    socketTimeout: extras.socketTimeout ?? IMAP_SOCKET_TIMEOUT_MS,
    maxIdleTime: extras.maxIdleTime,
    clientInfo: { name: "WarmDesk" },
  } as ImapFlowOptions;
}

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REVOKED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH",
]);

// deno-lint-ignore no-explicit-any
type AnyErr = any;

/**
 * One sentence that says what went wrong and what to check: DNS, refused, timeout,
 * TLS/certificate, authentication, missing mailbox, or the server's own words.
 */
export function describeImapError(
  err: unknown,
  s: Pick<ImapSettingsRecord, "host" | "port" | "security" | "username" | "mailbox"> & {
    auth?: ImapSettingsRecord["auth"];
  },
): ImapConnectError {
  if (err instanceof ImapConnectError) return err;
  const e = (err ?? {}) as AnyErr;
  const code: string = String(e.code ?? "");
  const msg: string = String(e.message ?? err);
  const where = `${s.host}:${s.port}`;
  if (e.authenticationFailed || e.serverResponseCode === "AUTHENTICATIONFAILED") {
    const said = e.responseText ? ` (server said: ${e.responseText})` : "";
    if (s.auth === "oauth2") {
      return new ImapConnectError(
        `Authentication failed: ${where} rejected the OAuth2 access token for "${s.username}"${said}; authorise the account again`,
        "auth",
        { cause: err },
      );
    }
    return new ImapConnectError(
      `Authentication failed: ${where} rejected the username "${s.username}" or its password${said}`,
      "auth",
      { cause: err },
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME") {
    return new ImapConnectError(
      `DNS: the host name "${s.host}" could not be resolved; check the spelling`,
      "dns",
      { cause: err },
    );
  }
  if (code === "ECONNREFUSED") {
    return new ImapConnectError(
      `Connection refused by ${where}: nothing accepts IMAP connections on that port`,
      "refused",
      { cause: err },
    );
  }
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") {
    return new ImapConnectError(`Host ${where} is unreachable from this server`, "refused", {
      cause: err,
    });
  }
  if (code === "GREETING_TIMEOUT" && s.security !== "tls") {
    return new ImapConnectError(
      `Timed out waiting for the IMAP greeting from ${where}: the port may expect implicit TLS; try security "tls" (usually port 993)`,
      "timeout",
      { cause: err },
    );
  }
  if (
    code === "CONNECT_TIMEOUT" || code === "GREETING_TIMEOUT" || code === "UPGRADE_TIMEOUT" ||
    code === "ETIMEDOUT" || code === "ETIMEOUT"
  ) {
    return new ImapConnectError(
      `Timed out connecting to ${where}: the host did not answer in time (firewall, wrong port?)`,
      "timeout",
      { cause: err },
    );
  }
  if (TLS_CODES.has(code) || /certificate|self[- ]signed|UnknownIssuer|CertNotValid/i.test(msg)) {
    return new ImapConnectError(
      `TLS: the certificate of ${where} is not trusted (${msg}); install a valid certificate on the server or turn certificate verification off`,
      "tls",
      { cause: err },
    );
  }
  if (
    code === "ERR_SSL_WRONG_VERSION_NUMBER" || /wrong version number|InvalidContentType/i.test(msg)
  ) {
    return new ImapConnectError(
      `TLS handshake with ${where} failed: the port does not speak implicit TLS; use security "starttls" or "none" (usually port 143)`,
      "tls",
      { cause: err },
    );
  }
  if (/STARTTLS/i.test(msg)) {
    return new ImapConnectError(`STARTTLS failed with ${where}: ${msg}`, "tls", { cause: err });
  }
  if (/ssl|tls|handshake/i.test(code + " " + msg)) {
    return new ImapConnectError(`TLS handshake with ${where} failed: ${msg}`, "tls", {
      cause: err,
    });
  }
  if (code === "NotFound" || e.serverResponseCode === "NONEXISTENT") {
    return new ImapConnectError(`Mailbox "${s.mailbox}" does not exist on ${where}`, "mailbox", {
      cause: err,
    });
  }
  const said = e.responseText ? `: ${e.responseText}` : "";
  return new ImapConnectError(`IMAP error from ${where}: ${msg}${said}`, "protocol", {
    cause: err,
  });
}

/**
 * Connect and sign in; errors come back as {@link ImapConnectError}. With OAuth2, a rejected
 * token is refreshed once (it may have been revoked or expired early) before giving up.
 */
export async function openImap(
  svc: Services,
  s: ImapSettingsRecord,
  extras?: ImapClientExtras,
): Promise<ImapFlow> {
  for (let attempt = 0;; attempt++) {
    const opts = attempt === 0 ? extras : { ...extras, forceRefresh: true };
    // OAuth2: XOAUTH2 first, OAUTHBEARER as fallback (imapflow alone prefers OAUTHBEARER)
    const client = preferXoauth2(new ImapFlow(await imapClientOptions(svc, s, opts)));
    // an 'error' event without a listener would crash the process; failures surface as rejects
    client.on("error", () => {});
    try {
      await client.connect();
      return client;
    } catch (e) {
      client.close();
      const rejected = (e as { authenticationFailed?: boolean })?.authenticationFailed;
      if (s.auth === "oauth2" && rejected && attempt === 0) continue;
      throw describeImapError(e, s);
    }
  }
}

/** Close politely, then for sure. */
export async function closeImap(client: ImapFlow | null | undefined): Promise<void> {
  if (!client) return;
  try {
    if (client.usable) await client.logout();
  } catch { /* already gone */ }
  try {
    client.close();
  } catch { /* already closed */ }
}

/** The answer of "Test connection" (API.md). */
export interface ImapTestResult {
  ok: boolean;
  error?: string;
  mailbox_exists?: boolean;
  processed_mailbox_exists?: boolean;
  capabilities?: string[];
  /** Whether the connection was encrypted (TLS or after STARTTLS). */
  tls?: boolean;
  idle_supported?: boolean;
  move_supported?: boolean;
}

/**
 * Connect with the given (possibly unsaved) settings, list what the server can do and check
 * that the mailbox exists. A missing processed mailbox is fine: the poll creates it.
 */
export async function testImapConnection(
  svc: Services,
  s: ImapSettingsRecord,
  extras?: ImapClientExtras,
): Promise<ImapTestResult> {
  let client: ImapFlow | null = null;
  try {
    client = await openImap(svc, s, extras);
    const capabilities = [...client.capabilities.keys()].sort();
    const boxes = new Set((await client.list()).map((b) => b.path));
    const has = (name: string) =>
      boxes.has(name) || (name.toUpperCase() === "INBOX" && boxes.has("INBOX"));
    const result: ImapTestResult = {
      ok: true,
      mailbox_exists: has(s.mailbox),
      processed_mailbox_exists: has(s.processed_mailbox),
      capabilities,
      tls: Boolean((client as unknown as { secureConnection?: boolean }).secureConnection),
      idle_supported: client.capabilities.has("IDLE"),
      move_supported: client.capabilities.has("MOVE"),
    };
    if (!result.mailbox_exists) {
      result.ok = false;
      const names = [...boxes].slice(0, 20).join(", ");
      result.error = `Mailbox "${s.mailbox}" does not exist on ${s.host}:${s.port}` +
        (names ? ` (it has: ${names})` : "");
    }
    return result;
  } catch (e) {
    const err = describeImapError(e, s);
    const out: ImapTestResult = { ok: false, error: err.message };
    if (client?.capabilities) out.capabilities = [...client.capabilities.keys()].sort();
    return out;
  } finally {
    await closeImap(client);
  }
}
