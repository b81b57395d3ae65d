import { deepStrictEqual, ok, rejects, strictEqual, throws } from "node:assert/strict";
import {
  applyImapPatch,
  defaultImapSettings,
  parseImapPatch,
  publicImapSettings,
} from "./imap_settings.ts";
import { createVault } from "../auth/secrets.ts";
import type { Services } from "../state.ts";
import { HttpError } from "../fw/mod.ts";

async function svc(): Promise<Services> {
  // applyImapPatch only uses the vault
  return { vault: await createVault("unit-test-secret") } as unknown as Services;
}

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    ok(e instanceof HttpError && e.status === 422, String(e));
    return e.message.split(":")[0];
  }
  throw new Error("no error thrown");
}

Deno.test("[imap settings] parse: valid values pass, unknown and read-only fields are ignored", () => {
  deepStrictEqual(
    parseImapPatch({
      host: " Mail.Example.COM ",
      port: 993,
      poll_interval: 30,
      provider: null,
      password_set: true,
      last_poll: {},
      extra: 1,
    }),
    { host: "mail.example.com", port: 993, poll_interval: 30, provider: null },
  );
  deepStrictEqual(parseImapPatch({ host: "[::1]", password: null }), { host: "[::1]" });
  deepStrictEqual(parseImapPatch({ password: "" }), {}, "an empty field keeps the password");
  deepStrictEqual(parseImapPatch({ password: " pw " }), { password: " pw " });
  deepStrictEqual(parseImapPatch({}), {});
});

Deno.test("[imap settings] parse: each bad field is a 422 naming it", () => {
  strictEqual(fieldOf(() => parseImapPatch({ poll_interval: 10 })), "poll_interval");
  strictEqual(fieldOf(() => parseImapPatch({ poll_interval: 86_401 })), "poll_interval");
  strictEqual(fieldOf(() => parseImapPatch({ port: "993" })), "port");
  strictEqual(fieldOf(() => parseImapPatch({ host: "a b" })), "host");
  strictEqual(fieldOf(() => parseImapPatch({ host: "x".repeat(254) })), "host");
  strictEqual(fieldOf(() => parseImapPatch({ processed_mailbox: "  " })), "processed_mailbox");
  strictEqual(fieldOf(() => parseImapPatch({ password: 5 })), "password");
  strictEqual(fieldOf(() => parseImapPatch({ username: "a\u0000b" })), "username");
  throws(() => parseImapPatch({ security: "TLS" }), HttpError);
});

Deno.test("[imap settings] apply: port follows security when it was the default; password sealed", async () => {
  const s = await svc();
  const cur = defaultImapSettings();
  const a = await applyImapPatch(s, cur, { security: "starttls" });
  strictEqual(a.port, 143);
  const b = await applyImapPatch(s, { ...cur, port: 1993 }, { security: "starttls" });
  strictEqual(b.port, 1993, "a custom port is kept");
  const c = await applyImapPatch(s, cur, { password: "pw" });
  ok(c.password_sealed && !c.password_sealed.includes("pw"));
  strictEqual(await s.vault.open(c.password_sealed!), "pw");
  strictEqual((await applyImapPatch(s, c, {})).password_sealed, c.password_sealed);
  strictEqual((await applyImapPatch(s, c, { password: "" })).password_sealed, null);
  await rejects(applyImapPatch(s, cur, { mailbox: "Processed" }), /processed_mailbox/);
  await rejects(applyImapPatch(s, cur, { auth: "oauth2" }), /^HttpError: provider|provider/);
  strictEqual(
    (await applyImapPatch(s, cur, { auth: "oauth2", provider: "google" })).provider,
    "google",
  );
});

Deno.test("[imap settings] the public view never carries the sealed password", () => {
  const v = publicImapSettings({ ...defaultImapSettings(), password_sealed: "v1:abc:def" }, null);
  strictEqual(v.password_set, true);
  ok(!JSON.stringify(v).includes("v1:abc"));
  ok(!("password_sealed" in v) && !("revision" in v));
});
