/**
 * The real entry point as an operator runs it: `deno run -A main.ts` with a temp KV file, the
 * generated first-admin password printed once, health answering, and a graceful SIGTERM.
 */
import { ok, strictEqual } from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));

async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  pred: (all: string) => boolean,
  acc: { text: string },
) {
  const deadline = Date.now() + 30_000;
  while (!pred(acc.text)) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${acc.text}`);
    const r = await reader.read();
    if (r.done) throw new Error(`process ended early:\n${acc.text}`);
    acc.text += r.value;
  }
}

Deno.test("[main] starts with defaults, prints the first admin once, serves health, stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "warmdesk-main-" });
  try {
    const start = () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "main.ts"],
        cwd: root,
        env: { PORT: "0", WARMDESK_KV_PATH: `${dir}/sub/w.kv`, WARMDESK_CONFIG: "" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    const p = start();
    const out = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const err = p.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const so = { text: "" }, se = { text: "" };
    await readUntil(out, (t) => t.includes("first admin"), so);
    const m = /WarmDesk first admin: (\S+) \/ (\S+)/.exec(so.text);
    ok(m, so.text);
    await readUntil(err, (t) => /"msg":"listening".*"port":\d+/.test(t), se);
    const port = Number(/"msg":"listening"[^\n]*"port":(\d+)/.exec(se.text)![1]);
    const h = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
    strictEqual(h.status, 200);
    strictEqual((await h.json()).kv, "ok");
    const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: m[1], password: m[2] }),
    });
    strictEqual(login.status, 200);
    await login.body?.cancel();
    ok(!se.text.includes(m[2]), "the generated password is not in the log");
    p.kill("SIGTERM");
    const st = await p.status;
    strictEqual(st.code, 0);
    // drain what is left
    for (;;) {
      const r = await err.read();
      if (r.done) break;
      se.text += r.value;
    }
    for (;;) {
      const r = await out.read();
      if (r.done) break;
      so.text += r.value;
    }
    ok(se.text.includes("shutting down"), se.text);

    // a second start on the same KV does not create or print another admin
    const p2 = start();
    const out2 = p2.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const err2 = p2.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const se2 = { text: "" };
    await readUntil(err2, (t) => t.includes('"msg":"listening"'), se2);
    p2.kill("SIGTERM");
    strictEqual((await p2.status).code, 0);
    let rest = "";
    for (;;) {
      const r = await out2.read();
      if (r.done) break;
      rest += r.value;
    }
    for (;;) {
      const r = await err2.read();
      if (r.done) break;
    }
    ok(!rest.includes("first admin"), rest);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
