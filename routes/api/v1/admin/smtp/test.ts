import { define } from "../../../../../lib/state.ts";
import { field, json, readJson } from "../../../../../lib/http/validate.ts";
import { testConnectionOf } from "../../../../../lib/mail/smtp_settings.ts";
import { testSmtp } from "../../../../../lib/mail/smtp_transport.ts";

export const handler = define.handlers({
  async POST(ctx) {
    const body = await readJson(ctx.req);
    const to = field.email(body, "to");
    const { conn, from_address, from_name } = await testConnectionOf(ctx.state.svc, body, !!to);
    const result = await testSmtp(conn, { to, from: from_address, fromName: from_name });
    return json(result);
  },
});
