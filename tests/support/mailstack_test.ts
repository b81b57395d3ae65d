// Self-tests of the mail stack (tests/support/mailstack.sh) and its helpers (mailstack.ts).
import assert from "node:assert/strict";
import {
  appendMail,
  deliver,
  imapClient,
  listMailbox,
  mailEnv,
  takeUser,
  waitForMailbox,
  withImap,
} from "./mailstack.ts";

function rawMail(to: string, subject: string, extra = ""): { raw: string; id: string } {
  const id = `<${crypto.randomUUID()}@example.test>`;
  const raw = [
    "From: Customer <customer@external.example>",
    `To: ${to}`,
    `Subject: ${subject}`,
    `Message-ID: ${id}`,
    `Date: ${new Date().toUTCString()}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    extra,
    "",
    "Hello, Grüße!",
    "",
  ].filter((l, i) => l !== "" || i > 6).join("\r\n");
  return { raw, id };
}

Deno.test("[mailstack] mailEnv reads the running stack", () => {
  const env = mailEnv();
  assert.ok(env.ca.includes("BEGIN CERTIFICATE"));
  assert.ok(env.imapPort > 0 && env.imapsPort > 0 && env.oauthUrl.startsWith("http://127.0.0.1:"));
});

Deno.test("[mailstack] password login over plain, STARTTLS and implicit TLS", async () => {
  await using u = await takeUser();
  for (const mode of ["plain", "starttls", "tls"] as const) {
    const c = imapClient(u, undefined, mode);
    await c.connect();
    assert.ok(c.authenticated, mode);
    assert.equal(c.secureConnection, mode !== "plain", `${mode} secureConnection`);
    await c.logout();
  }
});

Deno.test("[mailstack] wrong password is refused", async () => {
  await using u = await takeUser();
  const c = imapClient(u.email, "not-the-password");
  await assert.rejects(() => c.connect());
  c.close();
});

Deno.test("[mailstack] APPEND then UID MOVE into a processed mailbox", async () => {
  await using u = await takeUser();
  const m = rawMail(u.email, "move me");
  const uid = await appendMail(u, "INBOX", m.raw);
  assert.equal(typeof uid, "number");
  await withImap(u, async (c) => {
    await c.mailboxCreate("Processed");
    const lock = await c.getMailboxLock("INBOX");
    try {
      // imapflow answers false instead of throwing when MOVE fails
      const moved = await c.messageMove(String(uid), "Processed", { uid: true });
      assert.ok(moved, "messageMove result");
    } finally {
      lock.release();
    }
  });
  assert.equal((await listMailbox(u, "INBOX")).length, 0);
  const processed = await listMailbox(u, "Processed");
  assert.deepEqual(processed.map((p) => [p.subject, p.messageId]), [["move me", m.id]]);
});

Deno.test("[mailstack] takeUser hands out distinct users and empties them", async () => {
  const a = await takeUser();
  await using b = await takeUser();
  assert.notEqual(a.email, b.email);
  // while held, nobody else gets it
  await assert.rejects(() => takeUser({ user: a.email, waitMs: 0 }), /stayed taken/);
  await appendMail(a, "Leftover", rawMail(a.email, "old").raw);
  await appendMail(a, "INBOX", rawMail(a.email, "old").raw);
  await a.release();
  await using again = await takeUser({ user: a.email });
  assert.equal(again.email, a.email);
  assert.equal((await listMailbox(again, "INBOX")).length, 0);
  assert.equal((await listMailbox(again, "Leftover")).length, 0);
});

Deno.test("[mailstack] Postfix delivers local mail via LMTP; external mail lands in catchall", async () => {
  await using u = await takeUser();
  const local = rawMail(u.email, "via postfix");
  await deliver(u.email, local.raw);
  const [got] = await waitForMailbox(u, "INBOX", 1);
  assert.equal(got.messageId, local.id);

  const ext = rawMail("someone@customer.example", `external ${crypto.randomUUID()}`);
  await deliver("someone@customer.example", ext.raw);
  const deadline = Date.now() + 15000;
  let found;
  while (!found && Date.now() < deadline) {
    found = (await listMailbox("catchall", "INBOX")).find((m) => m.messageId === ext.id);
    if (!found) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(found, "external mail in catchall");
  const deliveredTo = found.headers.find((h) => h.key === "delivered-to")?.value;
  assert.equal(deliveredTo, `catchall+someone=customer.example@${mailEnv().domain}`);
});

Deno.test("[mailstack] Postfix refuses unknown local recipients", async () => {
  const m = rawMail(`nobody@${mailEnv().domain}`, "nobody");
  await assert.rejects(() => deliver(`nobody@${mailEnv().domain}`, m.raw), /550/);
});
