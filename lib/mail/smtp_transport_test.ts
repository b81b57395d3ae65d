/**
 * SMTP transport against real smtp-server instances on loopback: each security mode, the
 * certificate switch, auth, and the precise error of every failure an admin meets.
 */
import { ok, strictEqual } from "node:assert/strict";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { type SmtpConnection, testSmtp } from "./smtp_transport.ts";
import { describeSmtpError, sendViaSmtp, SmtpSendError } from "./smtp_transport.ts";

const fixtures = new URL("../../tests/fixtures/tls/", import.meta.url);
const key = Deno.readTextFileSync(new URL("key.pem", fixtures));
const cert = Deno.readTextFileSync(new URL("cert.pem", fixtures));

interface Server {
  port: number;
  close(): Promise<void>;
}

async function server(opts: Partial<SMTPServerOptions> = {}): Promise<Server> {
  const s = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: opts.secure || opts.key ? [] : ["STARTTLS"],
    onAuth(auth, _session, cb) {
      if (auth.username === "agent" && auth.password === "right") cb(null, { user: "agent" });
      else cb(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
    },
    onMailFrom(addr, _s, cb) {
      if (addr.address.startsWith("blocked")) {
        cb(Object.assign(new Error("Sender address rejected"), { responseCode: 553 }));
      } else cb();
    },
    onRcptTo(addr, _s, cb) {
      if (addr.address.startsWith("nobody")) {
        cb(Object.assign(new Error("No such user"), { responseCode: 550 }));
      } else if (addr.address.startsWith("busy")) {
        cb(Object.assign(new Error("Mailbox busy, try later"), { responseCode: 450 }));
      } else cb();
    },
    onData(stream, _s, cb) {
      stream.resume();
      stream.on("end", () => cb());
    },
    ...opts,
  });
  // TLS alerts from a client that refused our certificate surface here; they are expected
  s.on("error", () => {});
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  // deno-lint-ignore no-explicit-any
  const port = (s as any).server.address().port as number;
  return { port, close: () => new Promise<void>((r) => s.close(() => r())) };
}

const conn = (port: number, over: Partial<SmtpConnection> = {}): SmtpConnection => ({
  host: "127.0.0.1",
  port,
  security: "none",
  tls_verify: true,
  username: "",
  password: null,
  ...over,
});

const mail = (to = "cara@customer.example", from = "help@desk.example") => ({
  from,
  to,
  envelope: { from, to },
  subject: "s",
  text: "t",
});

async function sendError(c: SmtpConnection, m = mail()): Promise<SmtpSendError> {
  try {
    await sendViaSmtp(c, m);
  } catch (e) {
    ok(e instanceof SmtpSendError, String(e));
    return e;
  }
  throw new Error("send succeeded");
}

Deno.test("[smtp] plain, implicit TLS and STARTTLS sessions deliver", async () => {
  const plain = await server();
  const tls = await server({ secure: true, key, cert });
  const starttls = await server({ key, cert });
  try {
    strictEqual((await testSmtp(conn(plain.port))).ok, true);
    const r = await sendViaSmtp(conn(plain.port), mail());
    ok(r.response.startsWith("250"), r.response);
    strictEqual(
      (await testSmtp(conn(tls.port, { security: "tls", tls_verify: false }))).ok,
      true,
    );
    strictEqual(
      (await testSmtp(conn(starttls.port, { security: "starttls", tls_verify: false }))).ok,
      true,
    );
    // with the certificate check on, the self-signed certificate is named as the problem
    const v = await testSmtp(conn(tls.port, { security: "tls" }));
    strictEqual(v.ok, false);
    ok(!v.ok && /TLS certificate of 127\.0\.0\.1 could not be verified/.test(v.error), String(v));
    const v2 = await testSmtp(conn(starttls.port, { security: "starttls" }));
    ok(!v2.ok && /certificate/.test(v2.error), JSON.stringify(v2));
  } finally {
    await plain.close();
    await tls.close();
    await starttls.close();
  }
});

Deno.test("[smtp] authentication: right password works, a wrong one is named", async () => {
  const s = await server({ authOptional: false });
  try {
    const good = await testSmtp(conn(s.port, { username: "agent", password: "right" }));
    strictEqual(good.ok, true);
    const bad = await testSmtp(conn(s.port, { username: "agent", password: "wrong" }));
    ok(!bad.ok && /Authentication for user "agent" failed.*535/.test(bad.error), String(bad));
    const none = await sendError(conn(s.port));
    strictEqual(none.kind, "sender");
    ok(/requires authentication/.test(none.message), none.message);
    strictEqual(none.permanent, false);
  } finally {
    await s.close();
  }
});

Deno.test("[smtp] rejected sender is retried, rejected recipient is final, 4xx is retried", async () => {
  const s = await server();
  try {
    const from = await sendError(
      conn(s.port),
      mail("cara@customer.example", "blocked@desk.example"),
    );
    strictEqual(from.kind, "sender");
    strictEqual(from.permanent, false);
    ok(/Sender <blocked@desk\.example> was rejected.*553/.test(from.message), from.message);

    const rcpt = await sendError(conn(s.port), mail("nobody@customer.example"));
    strictEqual(rcpt.kind, "recipient");
    strictEqual(rcpt.permanent, true);
    ok(/Recipient <nobody@customer\.example> was rejected.*550/.test(rcpt.message), rcpt.message);

    const busy = await sendError(conn(s.port), mail("busy@customer.example"));
    strictEqual(busy.kind, "recipient");
    strictEqual(busy.permanent, false);
  } finally {
    await s.close();
  }
});

Deno.test("[smtp] wrong security mode and unreachable hosts get precise errors", async () => {
  const plain = await server();
  const tls = await server({ secure: true, key, cert });
  try {
    const tlsOnPlain = await testSmtp(conn(plain.port, { security: "tls", tls_verify: false }));
    ok(!tlsOnPlain.ok && /TLS handshake .* failed/.test(tlsOnPlain.error), String(tlsOnPlain));
    const noStarttls = await testSmtp(conn(plain.port, { security: "starttls" }));
    ok(!noStarttls.ok && /does not offer STARTTLS/.test(noStarttls.error), String(noStarttls));

    // nothing listens on a closed server's port
    const gone = await server();
    await gone.close();
    const refused = await testSmtp(conn(gone.port));
    ok(!refused.ok && /Connection to 127\.0\.0\.1:\d+ was refused/.test(refused.error));

    const dns = await testSmtp(conn(25, { host: "no-such-host.invalid" }));
    ok(!dns.ok && /Host "no-such-host\.invalid" was not found/.test(dns.error), String(dns));
  } finally {
    await plain.close();
    await tls.close();
  }
});

Deno.test("[smtp] describeSmtpError keeps the server's reply on one line", () => {
  const e = describeSmtpError(
    { code: "EENVELOPE", command: "RCPT TO", responseCode: 550, response: "550 5.1.1\r\n no" },
    { host: "mx", port: 25, username: "" },
    { to: "a@b.example" },
  );
  strictEqual(e.message, "Recipient <a@b.example> was rejected by mx:25: 550 5.1.1 no");
  ok(!/[\r\n]/.test(e.message));
});
