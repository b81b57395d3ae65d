/**
 * The app fixture for tests: a full WarmDesk on a fresh `:memory:` KV (or a temp file), served on
 * a loopback port, with a signed-in client helper. Everything is torn down by `close()`.
 */
import { buildConfig, type Config } from "../../lib/config.ts";
import { createWarmDesk, type WarmDesk } from "../../lib/app.ts";
import { setLogSink } from "../../lib/log.ts";
import "../../lib/subsystems.ts";

export const ADMIN = { email: "admin@example.test", password: "admin-pass-123" };

export interface TestApp {
  app: WarmDesk;
  /** http://127.0.0.1:PORT */
  url: string;
  kv: Deno.Kv;
  config: Config;
  /** Every log line written while the app ran (assert no secrets leak). */
  logs: string[];
  /** A client signed in as the given user (admin by default). */
  client(email?: string, password?: string): Promise<Client>;
  /** An anonymous client. */
  anon(): Client;
  close(): Promise<void>;
}

export interface Client {
  cookie: string | null;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** JSON request; returns status and parsed body (null when empty). */
  json(
    method: string,
    path: string,
    body?: unknown,
    // deno-lint-ignore no-explicit-any
  ): Promise<{ status: number; body: any; headers: Headers }>;
}

export interface TestAppOptions {
  /** Extra env/config values (as env variable names). */
  env?: Record<string, string>;
  /** YAML-level config (e.g. oauth2 section). */
  file?: Record<string, unknown>;
  /** Use this KV path instead of :memory: (restart tests); the caller removes it. */
  kvPath?: string;
  /** Listen on this loopback port instead of a free one (restart tests: same port again). */
  port?: number;
  /** Start background subsystems (queue listener, poller, live hub). Default true. */
  start?: boolean;
  /** Keep logs on stderr too. */
  echoLogs?: boolean;
}

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const logs: string[] = [];
  const restore = setLogSink((l) => {
    logs.push(l);
    if (opts.echoLogs) console.error(l);
  });
  const kv = await Deno.openKv(opts.kvPath ?? ":memory:");
  const env: Record<string, string> = {
    WARMDESK_ADMIN_EMAIL: ADMIN.email,
    WARMDESK_ADMIN_PASSWORD: ADMIN.password,
    WARMDESK_SECRET: "test-secret-not-for-production",
    ...opts.env,
  };
  const ac = new AbortController();
  let port = 0;
  // the base URL must be known before the app is built (OAuth redirect URIs): listen first
  let handler: (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response> = () =>
    new Response("starting", { status: 503 });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: opts.port ?? 0, signal: ac.signal, onListen: () => {} },
    (req, info) => handler(req, info),
  );
  port = server.addr.port;
  const config = buildConfig(
    opts.file ?? {},
    (k) => env[k] ?? (k === "PORT" ? String(port) : undefined),
  );
  config.base_url = env.WARMDESK_BASE_URL ?? `http://127.0.0.1:${port}`;
  const app = await createWarmDesk({ config, kv, mode: "dev", announce: () => {} });
  handler = app.fetch;
  if (opts.start !== false) await app.start();
  const url = `http://127.0.0.1:${port}`;

  const makeClient = (cookie: string | null): Client => {
    const c: Client = {
      cookie,
      async fetch(path, init = {}) {
        const headers = new Headers(init.headers);
        if (c.cookie) headers.set("cookie", c.cookie);
        return await fetch(url + path, { ...init, headers, redirect: "manual" });
      },
      async json(method, path, body) {
        const init: RequestInit = { method };
        if (body !== undefined) {
          init.body = typeof body === "string" ? body : JSON.stringify(body);
          init.headers = { "content-type": "application/json" };
        }
        const res = await c.fetch(path, init);
        const text = await res.text();
        let parsed = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          parsed = text;
        }
        return { status: res.status, body: parsed, headers: res.headers };
      },
    };
    return c;
  };

  return {
    app,
    url,
    kv,
    config,
    logs,
    anon: () => makeClient(null),
    async client(email = ADMIN.email, password = ADMIN.password) {
      const c = makeClient(null);
      const r = await c.json("POST", "/api/v1/auth/login", { email, password });
      if (r.status !== 200) {
        throw new Error(`login as ${email} failed: ${r.status} ${JSON.stringify(r.body)}`);
      }
      c.cookie = r.headers.get("set-cookie")!.split(";")[0];
      return c;
    },
    async close() {
      await app.close();
      ac.abort();
      await server.finished;
      kv.close();
      restore();
    },
  };
}

/** The password {@link addAgent} gives its agents. */
export const AGENT_PASSWORD = "agent-pass-123";

/** Who {@link addAgent} creates (defaults: agent@example.test, "Agent", helpdesk access on). */
export interface AgentOptions {
  email?: string;
  name?: string;
  helpdesk?: boolean;
}

/** Create an agent through the admin API (fails unless it answers 201). */
export async function addAgent(
  t: TestApp,
  opts: AgentOptions = {},
): Promise<{ id: string; email: string; password: string }> {
  const email = opts.email ?? "agent@example.test";
  const r = await (await t.client()).json("POST", "/api/v1/admin/users", {
    email,
    name: opts.name ?? "Agent",
    password: AGENT_PASSWORD,
    role: "agent",
    helpdesk_enabled: opts.helpdesk ?? true,
  });
  if (r.status !== 201) throw new Error(`agent ${email}: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.user.id, email, password: AGENT_PASSWORD };
}

/** {@link addAgent}, signed in. */
export async function agentClient(t: TestApp, opts: AgentOptions = {}): Promise<Client> {
  const a = await addAgent(t, opts);
  return await t.client(a.email, a.password);
}
