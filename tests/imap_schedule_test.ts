/**
 * Scheduling against Dovecot: two app instances on one KV file polling at once (nothing
 * doubled), a dead holder's lease, cron ticks and the delayed polls of short intervals, and
 * IDLE (mail picked up without a poll being asked for; restart on settings change; reconnect
 * after the server drops the connection).
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  appFor,
  boxSettings,
  mail,
  pollNow,
  rawClient,
  stack,
  type TestBox,
  testBox,
} from "./imap_helpers.ts";
import { startTestApp, type TestApp } from "./support/app.ts";
import { keys } from "../lib/db/keys.ts";
import { saveImapSettings } from "../lib/mail/imap_settings.ts";
import { runPoll } from "../lib/mail/poll.ts";
import { acquireLease, leaseHolder } from "../lib/mail/lease.ts";
import { dispatch } from "../lib/queue.ts";
import { POLL_DUE_MESSAGE } from "../lib/mail/scheduler.ts";

async function ticketSubjects(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list<{ subject: string }>({ prefix: keys.tickets() })) {
    out.push(e.value.subject);
  }
  return out.sort();
}

async function dedupeCount(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: ["dedupe"] })) n++;
  return n;
}

/** Two WarmDesk instances sharing one KV file, configured for `box`. */
async function twoInstances(
  box: TestBox,
): Promise<{ a: TestApp; b: TestApp; close(): Promise<void> }> {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/shared.kv`;
  const a = await startTestApp({ start: false, kvPath });
  const b = await startTestApp({ start: false, kvPath });
  await saveImapSettings(a.app.svc, boxSettings(box));
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("[schedule] two instances polling at once on one KV: one polls, the other waits; nothing doubled", async () => {
  const box = await testBox();
  const two = await twoInstances(box);
  try {
    for (let i = 0; i < 12; i++) {
      await box.append(mail({ subject: `c${String(i).padStart(2, "0")}` }));
    }
    const [ra, rb] = await Promise.all([pollNow(two.a), pollNow(two.b)]);
    strictEqual(ra.imported + rb.imported, 12, JSON.stringify([ra, rb]));
    ok(ra.imported === 0 || rb.imported === 0, "the second poll ran after the first");
    strictEqual((await ticketSubjects(two.a.kv)).length, 12);
    strictEqual(await box.count(box.processed), 12);
    strictEqual(await leaseHolder(two.a.kv), null, "the lease was given back");
  } finally {
    await two.close();
    await box.close();
  }
});

Deno.test("[schedule] even without the lease, two pipelines at once store each mail once", async () => {
  const box = await testBox();
  const two = await twoInstances(box);
  try {
    for (let i = 0; i < 12; i++) {
      await box.append(
        mail({ subject: `r${String(i).padStart(2, "0")}`, messageId: i % 3 ? undefined : null }),
      );
    }
    // runPoll is the bare pipeline: only the dedupe check inside each commit protects here
    const [ra, rb] = await Promise.all([runPoll(two.a.app.svc), runPoll(two.b.app.svc)]);
    strictEqual(ra.imported + rb.imported, 12, JSON.stringify([ra, rb]));
    strictEqual((await ticketSubjects(two.a.kv)).length, 12);
    strictEqual(await dedupeCount(two.a.kv), 12);
    const after = await pollNow(two.a);
    strictEqual(after.imported, 0);
  } finally {
    await two.close();
    await box.close();
  }
});

Deno.test("[schedule] a lease left by a dead process expires and Poll now proceeds", async () => {
  const box = await testBox();
  const t = await appFor(box);
  try {
    await box.append(mail({ subject: "after the crash" }));
    // a holder that died 59 s into its 60 s lease
    ok(await acquireLease(t.kv, "dead-process", 60_000, Date.now() - 59_000));
    const cron = await t.app.svc.ext.cronTick();
    strictEqual(cron, null, "disabled: the cron tick does nothing");
    const r = await pollNow(t);
    deepStrictEqual([r.ok, r.imported], [true, 1]);
  } finally {
    await t.close();
    await box.close();
  }
});

Deno.test("[schedule] cron ticks poll when the interval has elapsed; queued polls check again", async () => {
  const box = await testBox();
  const t = await appFor(box, { enabled: true, poll_interval: 30 });
  try {
    await box.append(mail({ subject: "tick 1" }));
    const first = await t.app.svc.ext.cronTick();
    strictEqual(first?.imported, 1, "first tick polls");
    await box.append(mail({ subject: "tick 2" }));
    strictEqual(await t.app.svc.ext.cronTick(), null, "not due again yet");
    // the delayed poll queued for :30 finds it not due yet either
    await dispatch(t.app.svc, { type: POLL_DUE_MESSAGE });
    deepStrictEqual(await ticketSubjects(t.kv), ["tick 1"]);
    // pretend the last poll was 31 s ago: the queued poll now polls
    const last = (await t.kv.get<{ at: string }>(keys.lastPoll())).value!;
    await t.kv.set(keys.lastPoll(), { ...last, at: new Date(Date.now() - 31_000).toISOString() });
    await dispatch(t.app.svc, { type: POLL_DUE_MESSAGE });
    deepStrictEqual(await ticketSubjects(t.kv), ["tick 1", "tick 2"]);
    // disabled: neither cron nor queued polls run, Poll now still does
    await saveImapSettings(t.app.svc, { enabled: false });
    await box.append(mail({ subject: "tick 3" }));
    await t.kv.set(keys.lastPoll(), { ...last, at: new Date(0).toISOString() });
    strictEqual(await t.app.svc.ext.cronTick(), null);
    await dispatch(t.app.svc, { type: POLL_DUE_MESSAGE });
    strictEqual((await ticketSubjects(t.kv)).length, 2);
    strictEqual((await pollNow(t)).imported, 1);
  } finally {
    await t.close();
    await box.close();
  }
});

/** Wait until `check` is true (no timing assertion: the test's own timeout bounds it). */
async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

Deno.test("[schedule] IDLE: new mail is stored without anyone asking for a poll", async () => {
  const box = await testBox();
  const box2 = await testBox(box.user);
  const t = await startTestApp({ start: true });
  const state = () => t.app.svc.ext.imapIdleState();
  try {
    strictEqual(state(), "off");
    await saveImapSettings(t.app.svc, { ...boxSettings(box), enabled: true, idle: true });
    await until(() => state() === "idling", "IDLE");
    const t0 = performance.now();
    await box.append(mail({ subject: "pushed" }));
    await until(async () => (await ticketSubjects(t.kv)).includes("pushed"), "the IDLE poll");
    console.log(`  APPEND → stored via IDLE: ${(performance.now() - t0).toFixed(0)} ms`);

    // a settings change restarts the watcher on the new mailbox
    await saveImapSettings(t.app.svc, { mailbox: box2.mailbox, processed_mailbox: box2.processed });
    await until(() => state() === "idling", "IDLE on the new mailbox");
    await box2.append(mail({ subject: "pushed 2" }));
    await until(
      async () => (await ticketSubjects(t.kv)).includes("pushed 2"),
      "the second IDLE poll",
    );

    await saveImapSettings(t.app.svc, { enabled: false });
    await until(() => state() === "off", "IDLE off");
  } finally {
    await t.close();
    await box2.close();
    await box.close();
  }
});

Deno.test("[schedule] IDLE reconnects after the server drops the connection", async () => {
  const box = await testBox();
  const t = await startTestApp({ start: true });
  const state = () => t.app.svc.ext.imapIdleState();
  try {
    await saveImapSettings(t.app.svc, { ...boxSettings(box), enabled: true, idle: true });
    await until(() => state() === "idling", "IDLE");
    // `doveadm kick` disconnects every IMAP session of the user, as a server restart would
    const kick = await new Deno.Command("doveadm", {
      args: ["-c", `${stack.dir}/dovecot.conf`, "kick", box.user.user],
      stdout: "piped",
      stderr: "piped",
    }).output();
    strictEqual(kick.code, 0, new TextDecoder().decode(kick.stderr));
    await until(() => state() !== "idling", "the dropped connection noticed");
    await until(() => state() === "idling", "IDLE again");
    // the kick dropped the test's own connection too: append through a new one
    const c = await rawClient(box.user);
    await c.append(box.mailbox, mail({ subject: "after reconnect" }));
    await c.logout();
    await until(
      async () => (await ticketSubjects(t.kv)).includes("after reconnect"),
      "the poll after reconnecting",
    );
  } finally {
    await t.close();
    await box.close();
  }
});
