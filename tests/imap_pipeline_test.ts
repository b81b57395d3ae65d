/**
 * The poll pipeline against the real Dovecot: import, move, duplicates across polls, MOVE
 * refused, a crash between store and move, the per-poll cap, size cap, bad mail.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { appFor, mail, newId, pollNow, stack, stackCa, testBox } from "./imap_helpers.ts";
import { saveImapSettings } from "../lib/mail/imap_settings.ts";
import { oauthProvider } from "./support/mailstack.ts";
import { keys } from "../lib/db/keys.ts";
import type { TicketRecord } from "../lib/db/tickets.ts";
import { listMessages } from "../lib/db/messages.ts";

async function allTickets(kv: Deno.Kv): Promise<TicketRecord[]> {
  const out: TicketRecord[] = [];
  for await (const e of kv.list<TicketRecord>({ prefix: keys.tickets() })) out.push(e.value);
  return out;
}

Deno.test("[poll] new mail becomes inbox tickets and moves to the processed mailbox", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    await box.append(mail({ subject: "First" }));
    await box.append(mail({ subject: "Second", from: "Bob <bob@other.example>" }));
    const r = await pollNow(t);
    deepStrictEqual(r, { ok: true, imported: 2, threaded: 0, skipped: 0, failed: 0 });
    strictEqual(await box.count(), 0);
    strictEqual(await box.count(box.processed), 2);
    const tickets = await allTickets(t.kv);
    deepStrictEqual(tickets.map((x) => [x.subject, x.status, x.source, x.customer_id]), [
      ["First", "new", "email", null],
      ["Second", "new", "email", null],
    ]);
    strictEqual(tickets[1].from_email, "bob@other.example");
    strictEqual(tickets[1].from_name, "Bob");
    const msgs = await listMessages(t.kv, tickets[0].id);
    strictEqual(msgs[0].via_email, true);
    strictEqual(msgs[0].direction, "inbound");
    strictEqual(msgs[0].body_text.trim(), "Hello, it burns.");
    const inbox = await (await t.client()).json("GET", "/api/v1/inbox");
    strictEqual(inbox.body.tickets.length, 2);
    const again = await pollNow(t);
    deepStrictEqual(again, { ok: true, imported: 0, threaded: 0, skipped: 0, failed: 0 });
    const s = await (await t.client()).json("GET", "/api/v1/admin/imap");
    strictEqual(s.body.settings.last_poll.ok, true);
    strictEqual(s.body.settings.last_poll.imported, 0);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[poll] the same Message-ID twice is stored once, in one poll and across polls", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    const id = newId();
    await box.append(mail({ messageId: id, subject: "Once" }));
    await box.append(mail({ messageId: id, subject: "Once (resent)" }));
    deepStrictEqual(await pollNow(t), {
      ok: true,
      imported: 1,
      threaded: 0,
      skipped: 1,
      failed: 0,
    });
    await box.append(mail({ messageId: id.toUpperCase(), subject: "Once (third copy)" }));
    deepStrictEqual(await pollNow(t), {
      ok: true,
      imported: 0,
      threaded: 0,
      skipped: 1,
      failed: 0,
    });
    const tickets = await allTickets(t.kv);
    strictEqual(tickets.length, 1);
    strictEqual(tickets[0].message_count, 1);
    strictEqual(await box.count(), 0);
    strictEqual(await box.count(box.processed), 3);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[poll] mail without a Message-ID is deduplicated by its raw bytes across polls", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    const a = mail({ messageId: null, subject: "No id", body: "exactly these bytes" });
    await box.append(a);
    deepStrictEqual((await pollNow(t)).imported, 1);
    await box.append(a); // the same bytes again
    await box.append(mail({ messageId: null, subject: "No id", body: "other bytes" }));
    const r = await pollNow(t);
    deepStrictEqual([r.imported, r.skipped, r.failed], [1, 1, 0]);
    const tickets = await allTickets(t.kv);
    strictEqual(tickets.length, 2);
    strictEqual((await listMessages(t.kv, tickets[0].id))[0].message_id, null);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[poll] a crash between store and move loses nothing and doubles nothing", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    await box.append(mail({ subject: "one" }));
    await box.append(mail({ subject: "two", messageId: null }));
    await box.append(mail({ subject: "three" }));
    let stored = 0;
    const crashed = await pollNow(t, {
      hooks: {
        afterStore() {
          if (++stored === 2) throw new Error("simulated crash after the second commit");
        },
      },
    });
    strictEqual(crashed.ok, false);
    ok(crashed.error.includes("simulated crash"), crashed.error);
    strictEqual(crashed.imported, 2);
    strictEqual(await box.count(), 3, "nothing was moved");
    strictEqual((await allTickets(t.kv)).length, 2);

    const r = await pollNow(t);
    deepStrictEqual([r.ok, r.imported, r.skipped, r.failed], [true, 1, 2, 0]);
    const subjects = (await allTickets(t.kv)).map((x) => x.subject).sort();
    deepStrictEqual(subjects, ["one", "three", "two"]);
    strictEqual(await box.count(), 0);
    strictEqual(await box.count(box.processed), 3);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[poll] a crash right before the move is repaired by the next poll", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    await box.append(mail({ subject: "a" }));
    await box.append(mail({ subject: "b" }));
    const crashed = await pollNow(t, {
      hooks: {
        beforeMove(uids: number[]) {
          if (uids.length > 0) throw new Error("simulated crash before MOVE");
        },
      },
    });
    deepStrictEqual([crashed.ok, crashed.imported], [false, 2]);
    const r = await pollNow(t);
    deepStrictEqual([r.ok, r.imported, r.skipped], [true, 0, 2]);
    strictEqual((await allTickets(t.kv)).length, 2);
    strictEqual(await box.count(box.processed), 2);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[poll] MOVE refused (processed mailbox not writable): \\Seen, remembered, never imported again", async () => {
  const box = await testBox();
  // Dovecot answers "NO" to MOVE/COPY when it cannot write the target Maildir; the test makes
  // the processed mailbox's folders read-only for the `mail` user Dovecot runs as.
  await box.client.mailboxCreate(box.processed);
  const dir = `${box.user.maildir}/.${box.processed}`;
  const subdirs = ["cur", "new", "tmp"].map((d) => `${dir}/${d}`);
  for (const d of subdirs) await Deno.chmod(d, 0o555);
  const t = await appFor(box);
  try {
    await box.append(mail({ subject: "stuck 1" }));
    await box.append(mail({ subject: "stuck 2", messageId: null }));
    const r = await pollNow(t);
    deepStrictEqual([r.ok, r.imported, r.skipped, r.failed], [true, 2, 0, 0]);
    ok(/refused/.test(r.error), r.error);
    strictEqual(await box.count(), 2, "still in the mailbox");
    const lock = await box.client.getMailboxLock(box.mailbox);
    try {
      const flags = await box.client.fetchAll("1:*", { uid: true, flags: true });
      ok(flags.every((m) => m.flags?.has("\\Seen")), "marked \\Seen");
    } finally {
      lock.release();
    }
    let remembered = 0;
    for await (const _ of t.kv.list({ prefix: ["seen_uid", box.mailbox] })) remembered++;
    strictEqual(remembered, 2);

    // later polls skip them silently, and new mail still gets in
    await box.append(mail({ subject: "fresh" }));
    const r2 = await pollNow(t);
    deepStrictEqual([r2.imported, r2.skipped, r2.failed], [1, 0, 0]);
    const r3 = await pollNow(t);
    deepStrictEqual([r3.imported, r3.skipped, r3.failed], [0, 0, 0]);
    strictEqual((await allTickets(t.kv)).length, 3);
  } finally {
    for (const d of subdirs) await Deno.chmod(d, 0o700).catch(() => {});
    await t.close();
    await box.close();
  }
});

Deno.test("[poll] a processed mailbox the server refuses to create: mail is imported and marked \\Seen", async () => {
  const box = await testBox();
  // Dovecot refuses mailbox names that begin with "~"
  const t = await appFor(box, { processed_mailbox: `~${box.processed}` });
  try {
    await box.append(mail({ subject: "x" }));
    const r = await pollNow(t);
    deepStrictEqual([r.ok, r.imported], [true, 1]);
    ok(r.error.includes("could not be created"), r.error);
    ok(r.error.includes("Invalid mailbox name"), r.error);
    deepStrictEqual((await pollNow(t)).imported, 0);
    strictEqual((await allTickets(t.kv)).length, 1);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[poll] the per-poll cap bounds one poll and the next poll continues", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    for (let i = 1; i <= 5; i++) await box.append(mail({ subject: `m${i}` }));
    const r1 = await pollNow(t, { maxMessages: 2 });
    deepStrictEqual([r1.imported, r1.more], [2, true]);
    const r2 = await pollNow(t, { maxMessages: 2 });
    deepStrictEqual([r2.imported, r2.more], [2, true]);
    const r3 = await pollNow(t, { maxMessages: 2 });
    deepStrictEqual([r3.imported, r3.more], [1, undefined]);
    deepStrictEqual((await allTickets(t.kv)).map((x) => x.subject), ["m1", "m2", "m3", "m4", "m5"]);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[poll] small source batches: every batch is stored, then moved", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    for (let i = 1; i <= 7; i++) await box.append(mail({ subject: `b${i}` }));
    const moves: number[][] = [];
    const r = await pollNow(t, {
      batchMessages: 3,
      hooks: { beforeMove: (uids: number[]) => void moves.push(uids) },
    });
    strictEqual(r.imported, 7);
    deepStrictEqual(moves.filter((m) => m.length > 0).map((m) => m.length), [3, 3, 1]);
    strictEqual(await box.count(box.processed), 7);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[poll] polls over STARTTLS and implicit TLS with the certificate verified", async () => {
  const box = await testBox();
  const t = await appFor(box);
  t.app.svc.ext.imapClientExtras = { ca: stackCa() };
  try {
    const modes = [
      { security: "starttls" as const, port: stack.port },
      { security: "tls" as const, port: stack.tlsPort },
    ];
    for (const m of modes) {
      await saveImapSettings(t.app.svc, { ...m, tls_verify: true });
      await box.append(mail({ subject: `over ${m.security}` }));
      const r = await pollNow(t);
      deepStrictEqual([r.ok, r.imported], [true, 1], `${m.security}: ${r.error}`);
    }
    deepStrictEqual((await allTickets(t.kv)).map((x) => x.subject), [
      "over starttls",
      "over tls",
    ]);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[poll] OAuth2: signs in with the hook's access token, refreshing once when rejected", async () => {
  const box = await testBox();
  const t = await appFor(box, { auth: "oauth2", provider: "google", password: "" });
  const good = (await oauthProvider().mintToken({ account: box.user.user })).access_token;
  const asked: boolean[] = [];
  // the OAuth2 module's hook, stubbed: a stale token first, a fresh one when forced
  t.app.svc.ext.oauthAccessToken = (_svc: unknown, opts?: { forceRefresh?: boolean }) => {
    asked.push(!!opts?.forceRefresh);
    return Promise.resolve({
      user: box.user.user,
      accessToken: opts?.forceRefresh ? good : "stale-token",
    });
  };
  try {
    await box.append(mail({ subject: "via oauth" }));
    const r = await pollNow(t);
    deepStrictEqual([r.ok, r.imported], [true, 1], r.error);
    deepStrictEqual(asked, [false, true]);
    // a token that stays bad is reported as such
    t.app.svc.ext.oauthAccessToken = () =>
      Promise.resolve({ user: box.user.user, accessToken: "revoked" });
    const bad = await pollNow(t);
    strictEqual(bad.ok, false);
    ok(/OAuth2 access token/.test(bad.error), bad.error);
  } finally {
    await t.close();
    await box.close();
  }
});
