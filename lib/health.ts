/** The health answer: KV reachable, last poll; never a secret. */
import type { Services } from "./state.ts";
import { keys } from "./db/keys.ts";

export interface Health {
  ok: boolean;
  kv: string;
  imap: { last_poll: unknown };
  [k: string]: unknown;
}

/** Extra health fields contributed by subsystems (e.g. OAuth2 refresh errors). */
export type HealthContributor = (svc: Services) => Promise<Record<string, unknown>>;

export async function health(svc: Services): Promise<Health> {
  let kv = "ok", lastPoll: unknown = null;
  try {
    lastPoll = (await svc.kv.get(keys.lastPoll())).value ?? null;
  } catch (e) {
    kv = `error: ${(e as Error).message}`;
  }
  const h: Health = { ok: kv === "ok", kv, imap: { last_poll: lastPoll } };
  for (const c of (svc.ext.health ?? []) as HealthContributor[]) {
    try {
      Object.assign(h, await c(svc));
    } catch {
      // a failing contributor must not take health down
    }
  }
  return h;
}
