import { define } from "../../../../../lib/state.ts";
import { json, readJson } from "../../../../../lib/http/validate.ts";
import { testSettings } from "../../../../../lib/mail/imap_api.ts";

export const handler = define.handlers({
  async POST(ctx) {
    return json(await testSettings(ctx.state.svc, await readJson(ctx.req)));
  },
});
