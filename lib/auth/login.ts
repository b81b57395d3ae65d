/** Sign-in and sign-out, with throttling and cookie building. */
import { HttpError } from "../fw/mod.ts";
import type { Services } from "../state.ts";
import { getUserByEmail, type PublicUser, publicUser } from "../db/users.ts";
import { dummyPasswordHash, verifyPassword } from "./password.ts";
import { clearLoginFailures, loginRetryAfter, recordLoginFailure } from "./throttle.ts";
import { createSession, deleteSession, SESSION_COOKIE } from "./sessions.ts";
import { SESSION_TTL_MS } from "../db/limits.ts";
import { logger } from "../log.ts";

const log = logger("auth");

function clientAddress(info?: Deno.ServeHandlerInfo): string {
  const a = info?.remoteAddr as Deno.NetAddr | undefined;
  return a?.hostname ?? "unknown";
}

/** Check credentials and open a session. 401 on bad credentials, 429 when throttled. */
export async function login(
  svc: Services,
  emailIn: string,
  password: string,
  info?: Deno.ServeHandlerInfo,
): Promise<{ user: PublicUser; token: string }> {
  const email = emailIn.trim().toLowerCase();
  const address = clientAddress(info);
  const wait = await loginRetryAfter(svc.kv, email, address);
  if (wait > 0) {
    const e = new HttpError(
      429,
      `Too many failed sign-ins; try again in ${wait} s`,
      "too_many_requests",
    );
    (e as HttpError & { retryAfter?: number }).retryAfter = wait;
    throw e;
  }
  const user = await getUserByEmail(svc.kv, email);
  const ok = user
    ? await verifyPassword(password, user.password_hash)
    : (await verifyPassword(password, await dummyPasswordHash()), false);
  if (!user || !ok) {
    await recordLoginFailure(svc.kv, email, address);
    log.warn("sign-in failed", { email, address });
    throw new HttpError(401, "Wrong email or password", "invalid_credentials");
  }
  await clearLoginFailures(svc.kv, email);
  const { token } = await createSession(svc.kv, user.id);
  log.info("signed in", { user_id: user.id });
  return { user: publicUser(user), token };
}

export async function logout(svc: Services, token: string | null): Promise<void> {
  if (token) await deleteSession(svc.kv, token);
}

function secureFlag(svc: Services): string {
  return svc.config.base_url.startsWith("https://") ? "; Secure" : "";
}

export function sessionCookie(svc: Services, token: string): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${
    Math.floor(SESSION_TTL_MS / 1000)
  }${secureFlag(svc)}`;
}

export function clearSessionCookie(svc: Services): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secureFlag(svc)}`;
}
