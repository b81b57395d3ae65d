import { define } from "../../../../../lib/state.ts";
import { json, readJson } from "../../../../../lib/http/validate.ts";
import {
  getSmtpRecord,
  publicSmtpSettings,
  saveSmtpSettings,
} from "../../../../../lib/mail/smtp_settings.ts";
import { kickQueued } from "../../../../../lib/mail/outbox.ts";

export const handler = define.handlers({
  async GET(ctx) {
    return json({ settings: publicSmtpSettings(await getSmtpRecord(ctx.state.svc.kv)) });
  },
  async PUT(ctx) {
    const svc = ctx.state.svc;
    const settings = await saveSmtpSettings(svc, await readJson(ctx.req));
    // waiting mail goes out at once with the new settings
    await kickQueued(svc);
    return json({ settings });
  },
});
