/**
 * What the `/api/v1/admin/imap*` routes do, kept out of the route files so they stay thin:
 * read and save settings, test unsaved settings, poll now, list and fetch failed mail.
 *
 * @module
 */
import type { Services } from "../state.ts";
import { HttpError } from "../fw/mod.ts";
import {
  applyImapPatch,
  getImapSettings,
  getLastPoll,
  parseImapPatch,
  type PublicImapSettings,
  publicImapSettings,
  saveImapSettings,
} from "./imap_settings.ts";
import { type ImapTestResult, testImapConnection } from "./imap_connect.ts";
import type { PollResult } from "./poll.ts";
import { runPoll } from "./poll.ts";
import { getFailedMail } from "./failed_mail.ts";
import { readBlob } from "../db/blobs.ts";

/** `{settings}` for GET and PUT. */
export async function settingsView(svc: Services): Promise<{ settings: PublicImapSettings }> {
  return { settings: publicImapSettings(await getImapSettings(svc), await getLastPoll(svc)) };
}

/** PUT: validate (422 naming the field), save, answer the new settings. */
export async function putSettings(
  svc: Services,
  body: Record<string, unknown>,
): Promise<{ settings: PublicImapSettings }> {
  const saved = await saveImapSettings(svc, parseImapPatch(body));
  return { settings: publicImapSettings(saved, await getLastPoll(svc)) };
}

/** Test connection with the stored settings overlaid by the (unsaved) body. */
export async function testSettings(
  svc: Services,
  body: Record<string, unknown>,
): Promise<ImapTestResult> {
  const s = await applyImapPatch(svc, await getImapSettings(svc), parseImapPatch(body));
  if (!s.host) return { ok: false, error: "host: set the IMAP server's host name" };
  if (s.auth === "plain" && !s.username) {
    return { ok: false, error: "username: set the IMAP username" };
  }
  return await testImapConnection(svc, s);
}

/** Poll now: through the scheduler (waits for a running poll), else directly. */
export async function pollNowView(svc: Services): Promise<PollResult> {
  const r: PollResult = svc.ext.pollNow ? await svc.ext.pollNow() : await runPoll(svc);
  const { more: _more, ...out } = r;
  return out;
}

/** The raw copy of a failed mail as a download. */
export async function failedRawResponse(svc: Services, id: string): Promise<Response> {
  const rec = await getFailedMail(svc, id);
  if (!rec) throw new HttpError(404, "No such failed mail", "not_found");
  const raw = rec.blob_id ? await readBlob(svc.kv, rec.blob_id) : null;
  if (!raw) throw new HttpError(404, "The raw copy of this mail was not kept", "not_found");
  return new Response(new Uint8Array(raw), {
    headers: {
      // a download, never rendered: the mail failed because it is odd
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="failed-${id.slice(0, 16)}.eml"`,
      "content-length": String(raw.length),
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    },
  });
}
