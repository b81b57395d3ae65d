/**
 * Building WarmDesk: services (KV, config, vault), migrations, the first admin, the web app from
 * the route manifest, and the subsystems (mail polling, outbound worker, live updates) that
 * register themselves in `SUBSYSTEMS`.
 */
import { createApp } from "./fw/mod.ts";
import { manifest } from "../routes.gen.ts";
import type { Config } from "./config.ts";
import { openKv } from "./db/kv.ts";
import { migrate } from "./db/migrate.ts";
import { createVault, loadSecret } from "./auth/secrets.ts";
import { anyUser, createUser } from "./db/users.ts";
import type { Services, State } from "./state.ts";
import { logger } from "./log.ts";

const log = logger("app");

/** A part of WarmDesk with a lifecycle (poller, outbound worker, live hub, ...). */
export interface Subsystem {
  name: string;
  /** Start background work (timers, queue listeners). Not called in API-only tests unless asked. */
  start?(): Promise<void> | void;
  /** Stop and release everything. */
  stop?(): Promise<void> | void;
}

/** Factories run at boot, in order; each may also install things into `svc.ext`. */
export type SubsystemFactory = (svc: Services) => Subsystem | Promise<Subsystem>;
export const SUBSYSTEMS: SubsystemFactory[] = [];

export interface WarmDesk {
  svc: Services;
  fetch: (req: Request, info?: Deno.ServeHandlerInfo) => Promise<Response>;
  subsystems: Subsystem[];
  /** Start background work of every subsystem. */
  start(): Promise<void>;
  /** Stop background work (closes live sockets with 1001, releases the poll lease). */
  stop(): Promise<void>;
  /** Stop subsystems, the bundler, and close KV (when we opened it). */
  close(): Promise<void>;
}

export interface CreateOptions {
  config: Config;
  /** An open KV to use instead of opening `config.kv_path` (tests). */
  kv?: Deno.Kv;
  /** "dev" builds islands in memory; "prod" uses the `deno task build` snapshot when present. */
  mode?: "dev" | "prod";
  /** Print the generated first-admin password here (stdout by default). */
  announce?: (line: string) => void;
}

/** Ensure a first admin exists: from config, else with a generated password printed once. */
export async function bootstrapAdmin(
  kv: Deno.Kv,
  config: Config,
  announce: (line: string) => void,
): Promise<void> {
  if (await anyUser(kv)) return;
  const email = config.admin_email ?? "admin@localhost";
  let password = config.admin_password;
  if (!password) {
    password = Array.from(
      crypto.getRandomValues(new Uint8Array(12)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    announce(
      `WarmDesk first admin: ${email} / ${password} (shown once; change it after signing in)`,
    );
  }
  try {
    await createUser(kv, { email, name: "Admin", password, role: "admin", helpdesk_enabled: true });
    log.info("first admin created", { email });
  } catch (e) {
    // another process created it at the same moment: fine
    if (!(await anyUser(kv))) throw e;
  }
}

export async function createWarmDesk(opts: CreateOptions): Promise<WarmDesk> {
  const { config } = opts;
  const kv = opts.kv ?? await openKv(config.kv_path);
  await migrate(kv);
  const vault = await createVault(await loadSecret(kv, config.secret_key));
  const svc: Services = { kv, config, vault, ext: {} };
  await bootstrapAdmin(kv, config, opts.announce ?? ((l) => console.log(l)));
  const subsystems: Subsystem[] = [];
  for (const f of SUBSYSTEMS) subsystems.push(await f(svc));

  const app = createApp<State>(manifest, {
    initialState: () => ({ svc, user: null, session: null, sessionToken: null, cspNonce: "" }),
    staticDir: "static",
    build: { mode: opts.mode ?? "prod" },
  });
  let closed = false;
  let stopped: Promise<void> | null = null;
  const stop = () =>
    stopped ??= (async () => {
      for (const s of [...subsystems].reverse()) {
        try {
          await s.stop?.();
        } catch (e) {
          log.error("subsystem stop failed", { name: s.name, error: e });
        }
      }
    })();
  return {
    svc,
    fetch: app.fetch,
    subsystems,
    async start() {
      for (const s of subsystems) await s.start?.();
    },
    stop,
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      await app.close();
      if (!opts.kv) kv.close();
    },
  };
}
