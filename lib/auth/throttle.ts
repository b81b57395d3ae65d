/**
 * Login throttling per account and per client address: after too many failures in the window,
 * further attempts get 429 until the window passes. Counters live in KV with expireIn.
 */
import { keys } from "../db/keys.ts";
import {
  LOGIN_MAX_FAILURES_ACCOUNT,
  LOGIN_MAX_FAILURES_ADDRESS,
  LOGIN_WINDOW_MS,
} from "../db/limits.ts";

interface Failures {
  count: number;
  first_at: number;
}

/** Seconds to wait before the next attempt, or 0 when allowed. */
export async function loginRetryAfter(
  kv: Deno.Kv,
  email: string,
  address: string,
): Promise<number> {
  const [a, b] = await kv.getMany<[Failures, Failures]>([
    keys.loginFailures("account", email),
    keys.loginFailures("address", address),
  ]);
  const now = Date.now();
  let wait = 0;
  for (
    const [e, max] of [[a, LOGIN_MAX_FAILURES_ACCOUNT], [b, LOGIN_MAX_FAILURES_ADDRESS]] as const
  ) {
    const v = e.value;
    if (v && v.count >= max && now - v.first_at < LOGIN_WINDOW_MS) {
      wait = Math.max(wait, Math.ceil((v.first_at + LOGIN_WINDOW_MS - now) / 1000));
    }
  }
  return wait;
}

/** Count a failed attempt. */
export async function recordLoginFailure(
  kv: Deno.Kv,
  email: string,
  address: string,
): Promise<void> {
  for (
    const key of [keys.loginFailures("account", email), keys.loginFailures("address", address)]
  ) {
    for (let i = 0; i < 5; i++) {
      const cur = await kv.get<Failures>(key);
      const now = Date.now();
      const fresh = !cur.value || now - cur.value.first_at >= LOGIN_WINDOW_MS;
      const next: Failures = fresh
        ? { count: 1, first_at: now }
        : { ...cur.value!, count: cur.value!.count + 1 };
      const res = await kv.atomic().check(cur).set(key, next, { expireIn: LOGIN_WINDOW_MS })
        .commit();
      if (res.ok) break;
    }
  }
}

/** Forget the account's failures after a good login. */
export async function clearLoginFailures(kv: Deno.Kv, email: string): Promise<void> {
  await kv.delete(keys.loginFailures("account", email));
}
