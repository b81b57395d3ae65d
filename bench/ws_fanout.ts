/**
 * WebSocket fan-out: 500 sockets subscribed to one ticket; an agent replies (HTTP) and every
 * socket gets the `message` event. Per round: time from the message's commit (its created_at,
 * stamped just before the commit, same machine clock) to the first, median and LAST socket
 * receiving it; p50/p95 over the rounds; and the server's RSS (VmRSS of the server process)
 * before and with the sockets open. The server runs as its own process (`main.ts`) so its
 * memory and event loop are not mixed with the 500 clients.
 *
 *   deno run -A bench/ws_fanout.ts [sockets=500] [rounds=30]
 */
import { fileURLToPath } from "node:url";
import { WsClient } from "../lib/live/testing.ts";
import { mib, ms, summary } from "./stats.ts";

const SOCKETS = Number(Deno.args[0] ?? 500);
const ROUNDS = Number(Deno.args[1] ?? 30);
const ADMIN = { email: "bench@example.test", password: "bench-pass-123" };
const root = fileURLToPath(new URL("..", import.meta.url));

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function rssOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb * 1024;
}

const dir = await Deno.makeTempDir({ prefix: "warmdesk-wsbench-" });
const port = freePort();
const base = `http://127.0.0.1:${port}`;
const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "main.ts"],
  cwd: root,
  env: {
    PORT: String(port),
    WARMDESK_KV_PATH: `${dir}/bench.kv`,
    WARMDESK_BASE_URL: base,
    WARMDESK_ADMIN_EMAIL: ADMIN.email,
    WARMDESK_ADMIN_PASSWORD: ADMIN.password,
    WARMDESK_SECRET: "bench-secret-not-for-production",
    WARMDESK_LOG_LEVEL: "warn",
  },
  stdout: "null",
  stderr: "inherit",
}).spawn();

const sockets: WsClient[] = [];
try {
  for (let i = 0;; i++) {
    try {
      const r = await fetch(`${base}/api/v1/health`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error("server did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  await login.body?.cancel();
  const cookie = login.headers.get("set-cookie")!.split(";")[0];
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(base + path, {
      method,
      headers: { cookie, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const j = await r.json();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  };
  const ticket = (await api("POST", "/api/v1/tickets", { subject: "Fan-out", body: "start" }))
    .ticket.id as number;
  const rssBefore = rssOf(server.pid);

  const t0 = performance.now();
  const BATCH = 50;
  for (let i = 0; i < SOCKETS; i += BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(BATCH, SOCKETS - i) }, () => WsClient.connect(base, cookie)),
    );
    await Promise.all(batch.map((s) => s.subscribe(ticket)));
    sockets.push(...batch);
  }
  const openMs = performance.now() - t0;
  const rssOpen = rssOf(server.pid);
  console.log(`${SOCKETS} sockets open and subscribed in ${ms(openMs)}`);

  const last: number[] = [], median: number[] = [], first: number[] = [], http: number[] = [];
  for (let round = 0; round < ROUNDS + 3; round++) {
    const arrivals: number[] = [];
    let done!: () => void;
    const all = new Promise<void>((r) => done = r);
    const body = `round ${round}`;
    for (const s of sockets) {
      s.onEvent = (e) => {
        if (e.type !== "message" || e.message.body_text !== body) return;
        arrivals.push(Date.now() - Date.parse(e.message.created_at));
        if (arrivals.length === sockets.length) done();
      };
    }
    const sent = performance.now();
    await api("POST", `/api/v1/tickets/${ticket}/messages`, { body });
    const answered = performance.now() - sent;
    await all;
    if (round < 3) continue; // warm-up rounds
    arrivals.sort((a, b) => a - b);
    first.push(arrivals[0]);
    median.push(arrivals[Math.floor(arrivals.length / 2)]);
    last.push(arrivals[arrivals.length - 1]);
    http.push(answered);
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const s of sockets) s.onEvent = null;
  const rssAfter = rssOf(server.pid);

  const line = (name: string, xs: number[]) => {
    const st = summary(xs);
    console.log(
      `${name}: p50 ${ms(st.p50)}, p95 ${ms(st.p95)}, max ${ms(st.max)} (${st.n} rounds)`,
    );
  };
  line("commit -> LAST of 500 sockets has the message event", last);
  line("commit -> median socket", median);
  line("commit -> first socket", first);
  line("reply POST answered (HTTP round trip)", http);
  console.log(
    `server RSS: ${mib(rssBefore)} before sockets, ${mib(rssOpen)} with ${SOCKETS} subscribed, ` +
      `${mib(rssAfter)} after ${ROUNDS + 3} rounds ` +
      `(~${((rssOpen - rssBefore) / SOCKETS / 1024).toFixed(1)} KiB per socket)`,
  );
  console.log(`bench process RSS (the ${SOCKETS} clients): ${mib(Deno.memoryUsage().rss)}`);
} finally {
  await Promise.all(sockets.map((s) => s.close().catch(() => {})));
  server.kill("SIGTERM");
  await server.status;
  await Deno.remove(dir, { recursive: true });
}
