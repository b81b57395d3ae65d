/**
 * The app's per-request state and the services it carries. Services are built once at boot
 * (`lib/app.ts`) and handed to every request; mail, outbound and live parts plug in here.
 */
import { createDefine } from "./fw/mod.ts";
import type { Config } from "./config.ts";
import type { Vault } from "./auth/secrets.ts";
import type { PublicUser } from "./db/users.ts";
import type { SessionRecord } from "./auth/sessions.ts";

/** Long-lived parts shared by all requests. Optional members are added by the mail/live modules. */
export interface Services {
  kv: Deno.Kv;
  config: Config;
  vault: Vault;
  /** Extension slots: each subsystem registers itself here at boot. */
  // deno-lint-ignore no-explicit-any
  ext: Record<string, any>;
}

export interface State {
  svc: Services;
  user: PublicUser | null;
  session: SessionRecord | null;
  sessionToken: string | null;
  /** Nonce for the page's inline module script (CSP). */
  cspNonce: string;
}

export const define = createDefine<State>();
