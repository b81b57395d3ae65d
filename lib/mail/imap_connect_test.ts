import { ok, strictEqual } from "node:assert/strict";
import { describeImapError } from "./imap_connect.ts";

const S = {
  host: "imap.example.test",
  port: 993,
  security: "tls" as const,
  username: "help@example.test",
  mailbox: "INBOX",
};

function err(props: Record<string, unknown>, message = "x"): Error {
  return Object.assign(new Error(message), props);
}

Deno.test("[imap connect] errors are classified into one precise sentence each", () => {
  const cases: [Error, string, RegExp][] = [
    [
      err({ authenticationFailed: true, responseText: "Authentication failed." }),
      "auth",
      /username "help@example\.test"/,
    ],
    [err({ code: "ENOTFOUND" }), "dns", /host name "imap\.example\.test"/],
    [err({ code: "EAI_AGAIN" }), "dns", /DNS/],
    [err({ code: "ECONNREFUSED" }), "refused", /refused by imap\.example\.test:993/],
    [err({ code: "CONNECT_TIMEOUT" }), "timeout", /Timed out/],
    [
      err({ code: "DEPTH_ZERO_SELF_SIGNED_CERT" }, "self-signed certificate"),
      "tls",
      /certificate .* not trusted/,
    ],
    [err({ code: "CERT_HAS_EXPIRED" }, "certificate has expired"), "tls", /verification off/],
    [err({ code: "ERR_SSL_WRONG_VERSION_NUMBER" }, "wrong version number"), "tls", /starttls/],
    [
      err({ code: "NotFound" }, "Mailbox doesn't exist: INBOX"),
      "mailbox",
      /Mailbox "INBOX" does not exist/,
    ],
    [err({ responseText: "Server busy" }, "Command failed"), "protocol", /Server busy/],
  ];
  for (const [e, kind, re] of cases) {
    const d = describeImapError(e, S);
    strictEqual(d.kind, kind, `${e.message} → ${d.kind}`);
    ok(re.test(d.message), d.message);
  }
  const greeting = describeImapError(err({ code: "GREETING_TIMEOUT" }), { ...S, security: "none" });
  ok(/implicit TLS/.test(greeting.message), greeting.message);
});
