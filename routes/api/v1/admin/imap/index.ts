import { define } from "../../../../../lib/state.ts";
import { json, readJson } from "../../../../../lib/http/validate.ts";
import { putSettings, settingsView } from "../../../../../lib/mail/imap_api.ts";

export const handler = define.handlers({
  async GET(ctx) {
    return json(await settingsView(ctx.state.svc));
  },
  async PUT(ctx) {
    return json(await putSettings(ctx.state.svc, await readJson(ctx.req)));
  },
});
