import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import { preferXoauth2, saslMechanism } from "./oauth2_sasl.ts";

/**
 * A tiny IMAP server on loopback that offers the given AUTH mechanisms, refuses those in
 * `refuse`, and records which mechanisms were tried with which payload.
 */
function fakeImap(offer: string[], refuse: string[] = []) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tried: { mech: string; payload: string }[] = [];
  const caps = `IMAP4rev1 SASL-IR ${offer.map((m) => `AUTH=${m}`).join(" ")}`;
  const conns = new Set<Deno.Conn>();
  const serve = async (conn: Deno.Conn) => {
    const enc = new TextEncoder(), dec = new TextDecoder();
    const send = (s: string) => conn.write(enc.encode(s));
    let buf = "";
    await send(`* OK [CAPABILITY ${caps}] fake ready\r\n`);
    const chunk = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(chunk).catch(() => null);
      if (n === null) break;
      buf += dec.decode(chunk.subarray(0, n));
      let i;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const [tag, cmd = "", ...args] = line.split(" ");
        switch (cmd.toUpperCase()) {
          case "CAPABILITY":
            await send(`* CAPABILITY ${caps}\r\n${tag} OK done\r\n`);
            break;
          case "AUTHENTICATE": {
            const mech = args[0].toUpperCase();
            tried.push({ mech, payload: atob(args[1] ?? "") });
            await send(
              refuse.includes(mech)
                ? `${tag} NO [AUTHENTICATIONFAILED] not with ${mech}\r\n`
                : `${tag} OK [CAPABILITY IMAP4rev1] welcome\r\n`,
            );
            break;
          }
          case "NAMESPACE":
            await send(`* NAMESPACE (("" "/")) NIL NIL\r\n${tag} OK done\r\n`);
            break;
          case "LOGOUT":
            await send(`* BYE bye\r\n${tag} OK done\r\n`);
            conn.close();
            return;
          default:
            await send(`${tag} OK done\r\n`);
        }
      }
    }
    try {
      conn.close();
    } catch { /* closed by the client */ }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      serve(conn).finally(() => conns.delete(conn));
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    tried,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      for (const c of conns) {
        try {
          c.close();
        } catch { /* gone */ }
      }
    },
  };
}

function client(port: number, prefer: boolean) {
  const c = new ImapFlow({
    host: "127.0.0.1",
    port,
    secure: false,
    doSTARTTLS: false,
    logger: false,
    disableAutoIdle: true,
    auth: { user: "desk@example.test", accessToken: "at-123" },
  });
  c.on("error", () => {});
  return prefer ? preferXoauth2(c) : c;
}

async function login(offer: string[], refuse: string[] = [], prefer = true) {
  const server = fakeImap(offer, refuse);
  const c = client(server.port, prefer);
  let error: unknown = null;
  try {
    await c.connect();
  } catch (e) {
    error = e;
  }
  const mech = saslMechanism(c);
  if (c.usable) await c.logout();
  c.close();
  await server.close();
  return { tried: server.tried, mech, error };
}

Deno.test("[sasl] XOAUTH2 is tried first when the server offers both", async () => {
  const r = await login(["XOAUTH2", "OAUTHBEARER"]);
  assert.equal(r.error, null);
  assert.deepEqual(r.tried.map((t) => t.mech), ["XOAUTH2"]);
  assert.equal(r.mech, "XOAUTH2");
  assert.equal(r.tried[0].payload, "user=desk@example.test\x01auth=Bearer at-123\x01\x01");
});

Deno.test("[sasl] imapflow on its own would pick OAUTHBEARER (why preferXoauth2 exists)", async () => {
  const r = await login(["XOAUTH2", "OAUTHBEARER"], [], false);
  assert.deepEqual(r.tried.map((t) => t.mech), ["OAUTHBEARER"]);
});

Deno.test("[sasl] a refused XOAUTH2 falls back to OAUTHBEARER on the same connection", async () => {
  const r = await login(["XOAUTH2", "OAUTHBEARER"], ["XOAUTH2"]);
  assert.equal(r.error, null);
  assert.deepEqual(r.tried.map((t) => t.mech), ["XOAUTH2", "OAUTHBEARER"]);
  assert.equal(r.mech, "OAUTHBEARER");
  const fields = r.tried[1].payload.split("\x01");
  assert.equal(fields[0], "n,a=desk@example.test,");
  assert.match(fields[1], /^host=/);
  assert.equal(fields[3], "auth=Bearer at-123");
});

Deno.test("[sasl] a server with only one mechanism gets that one; both refused is an auth failure", async () => {
  assert.deepEqual((await login(["OAUTHBEARER"])).tried.map((t) => t.mech), ["OAUTHBEARER"]);
  assert.deepEqual((await login(["XOAUTH2"])).tried.map((t) => t.mech), ["XOAUTH2"]);
  const r = await login(["XOAUTH2", "OAUTHBEARER"], ["XOAUTH2", "OAUTHBEARER"]);
  assert.deepEqual(r.tried.map((t) => t.mech), ["XOAUTH2", "OAUTHBEARER"]);
  assert.equal((r.error as { authenticationFailed?: boolean })?.authenticationFailed, true);
});
