import { define } from "../../../lib/state.ts";
import { json } from "../../../lib/http/validate.ts";
import { health } from "../../../lib/health.ts";

export const handler = define.handlers({
  async GET(ctx) {
    const h = await health(ctx.state.svc);
    return json(h, h.ok ? 200 : 503);
  },
});
