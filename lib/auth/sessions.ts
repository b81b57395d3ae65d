/**
 * Cookie sessions kept in KV. The cookie holds a random token; KV holds only its SHA-256, so a
 * leaked database does not hand out live sessions. Sessions expire through KV's expireIn.
 */
import { keys } from "../db/keys.ts";
import { SESSION_TTL_MS } from "../db/limits.ts";

export const SESSION_COOKIE = "warmdesk_session";

export interface SessionRecord {
  user_id: string;
  created_at: string;
  expires_at: string;
  /** Per-session CSRF token the pages echo in a header on state-changing requests. */
  csrf: string;
}

function randomToken(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(s: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Create a session; returns the cookie token. */
export async function createSession(
  kv: Deno.Kv,
  userId: string,
): Promise<{ token: string; session: SessionRecord }> {
  const token = randomToken();
  const now = Date.now();
  const session: SessionRecord = {
    user_id: userId,
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + SESSION_TTL_MS).toISOString(),
    csrf: randomToken(),
  };
  await kv.set(keys.session(await sha256Hex(token)), session, { expireIn: SESSION_TTL_MS });
  return { token, session };
}

/** Look a session up by cookie token; expired ones count as absent. */
export async function getSession(kv: Deno.Kv, token: string): Promise<SessionRecord | null> {
  if (!/^[0-9a-f]{64}$/.test(token)) return null;
  const s = (await kv.get<SessionRecord>(keys.session(await sha256Hex(token)))).value;
  if (!s || Date.parse(s.expires_at) < Date.now()) return null;
  return s;
}

export async function deleteSession(kv: Deno.Kv, token: string): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(token)) return;
  await kv.delete(keys.session(await sha256Hex(token)));
}
