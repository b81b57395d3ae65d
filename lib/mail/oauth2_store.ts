/**
 * What OAuth2 keeps in KV: the connection record (tokens sealed with the vault) under
 * `["settings","oauth2"]`, and short-lived authorisation states under `["oauth_state", state]`.
 * Only this module reads or writes those keys.
 */
import { keys } from "../db/keys.ts";
import type { OAuth2Provider } from "./oauth2_providers.ts";

/** How long an Authorise link (its `state`) stays valid. */
export const STATE_TTL_MS = 10 * 60 * 1000;

/** The stored connection. Token fields hold vault-sealed strings, never plain tokens. */
export interface OAuth2Record {
  provider: OAuth2Provider;
  /** Random id of this authorisation: a refresh started before a new Authorise or a Disconnect
   * must not write its result over the newer state. */
  grant_id: string;
  /** Mailbox address from the id token, when the provider named one. */
  account: string | null;
  refresh_sealed: string;
  access_sealed: string | null;
  /** ISO time the cached access token expires. */
  expires_at: string | null;
  connected_at: string;
  refreshed_at: string | null;
  /** Last refresh error for the admin, null when the last attempt worked. */
  error: string | null;
  error_code: string | null;
  error_at: string | null;
  /** Consecutive transient failures (drives the backoff). */
  failures: number;
  /** No refresh attempt before this ISO time (backoff). */
  retry_at: string | null;
  /** The provider refused the grant for good (invalid_grant, ...): wait for a new Authorise. */
  dead: boolean;
  /** Client id + token URL in use when it died: a config change earns one more try. */
  dead_fingerprint: string | null;
}

/** A pending authorisation, bound to the admin session that asked for it. */
export interface OAuthStateRecord {
  provider: OAuth2Provider;
  /** SHA-256 of the session cookie token. */
  session_hash: string;
  user_id: string;
  /** PKCE code verifier, sealed. */
  verifier_sealed: string;
  created_at: string;
}

export async function sha256Hex(s: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The connection record with its versionstamp (null value when not connected). */
export async function loadRecord(kv: Deno.Kv): Promise<Deno.KvEntryMaybe<OAuth2Record>> {
  return await kv.get<OAuth2Record>(keys.settings("oauth2"));
}

/** Write the record if it is still the one read (`prev`); false when something changed. */
export async function saveRecord(
  kv: Deno.Kv,
  prev: Deno.KvEntryMaybe<OAuth2Record>,
  next: OAuth2Record,
): Promise<boolean> {
  const res = await kv.atomic().check(prev).set(keys.settings("oauth2"), next).commit();
  return res.ok;
}

/** Replace the record unconditionally (a new Authorise wins over anything in flight). */
export async function putRecord(kv: Deno.Kv, rec: OAuth2Record): Promise<void> {
  await kv.set(keys.settings("oauth2"), rec);
}

/** Remove the record (Disconnect). */
export async function deleteRecord(kv: Deno.Kv): Promise<void> {
  await kv.delete(keys.settings("oauth2"));
}

/** Store a pending authorisation; KV forgets it after {@link STATE_TTL_MS}. */
export async function putState(kv: Deno.Kv, state: string, rec: OAuthStateRecord): Promise<void> {
  await kv.set(keys.oauthState(state), rec, { expireIn: STATE_TTL_MS });
}

/**
 * Take a pending authorisation out of KV: it is deleted in the same atomic step it is read in,
 * so two callbacks with the same `state` cannot both succeed. Null when unknown or used.
 */
export async function takeState(kv: Deno.Kv, state: string): Promise<OAuthStateRecord | null> {
  for (let i = 0; i < 5; i++) {
    const cur = await kv.get<OAuthStateRecord>(keys.oauthState(state));
    if (!cur.value) return null;
    const res = await kv.atomic().check(cur).delete(keys.oauthState(state)).commit();
    if (res.ok) return cur.value;
  }
  return null;
}
